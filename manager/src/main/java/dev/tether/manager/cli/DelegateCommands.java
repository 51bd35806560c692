package dev.tether.manager.cli;

import dev.tether.proto.admin.v1.Delegate;
import dev.tether.proto.admin.v1.DelegateAdminGrpc;
import dev.tether.proto.admin.v1.ListDelegatesRequest;
import dev.tether.proto.admin.v1.ListDelegatesResponse;
import io.grpc.CallCredentials;
import io.grpc.ManagedChannel;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code tether-manager delegate list}. */
@Command(name = "delegate", mixinStandardHelpOptions = true, description = "List delegates and write their install files.",
    subcommands = {DelegateCommands.ListDelegates.class, InstallFilesCommand.class})
final class DelegateCommands {

  @Command(name = "list", mixinStandardHelpOptions = true,
      description = "List delegates with their status, token, host, version and last heartbeat.")
  static final class ListDelegates extends AdminCommand {
    @Option(names = "--account", paramLabel = "ACCOUNT_ID", description = "Only this account (default: all).")
    String account;

    @Override
    void run(ManagedChannel channel, CallCredentials credentials) {
      ListDelegatesResponse response = DelegateAdminGrpc.newBlockingStub(channel).withCallCredentials(credentials)
          .withDeadlineAfter(deadline(), deadlineUnit())
          .listDelegates(ListDelegatesRequest.newBuilder().setAccountId(account == null ? "" : account).build());
      if (json()) {
        System.out.println(AdminOptions.toJson(response));
        return;
      }
      Table table = new Table("NAME", "STATUS", "TOKEN", "HOSTNAME", "TYPE", "VERSION", "CONNECTED_SINCE",
          "LAST_HEARTBEAT", "REPLICA", "ACCOUNT_ID");
      for (Delegate d : response.getDelegatesList()) {
        table.row(d.getName(), d.getConnected() ? "CONNECTED" : "DISCONNECTED", d.getTokenName(),
            d.getHostname(), d.getDelegateType(), d.getVersion(),
            d.getConnected() ? Table.time(d.getConnectedSinceUnixMs()) : "-",
            Table.time(d.getLastHeartbeatUnixMs()), d.getReplicaId().isEmpty() ? "-" : d.getReplicaId(),
            d.getAccountId());
      }
      table.print(System.out);
    }
  }
}
