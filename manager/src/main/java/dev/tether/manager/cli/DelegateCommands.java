package dev.tether.manager.cli;

import dev.tether.common.text.UserText;
import dev.tether.proto.admin.v1.ConnectionFilter;
import dev.tether.proto.admin.v1.Delegate;
import dev.tether.proto.admin.v1.DelegateAdminGrpc;
import dev.tether.proto.admin.v1.DeleteDelegateRequest;
import dev.tether.proto.admin.v1.DeleteDelegateResponse;
import dev.tether.proto.admin.v1.ListDelegatesRequest;
import dev.tether.proto.admin.v1.ListDelegatesResponse;
import dev.tether.proto.admin.v1.PruneDelegatesRequest;
import dev.tether.proto.admin.v1.PruneDelegatesResponse;
import io.grpc.CallCredentials;
import io.grpc.ManagedChannel;
import java.time.Duration;
import java.util.List;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code tether-manager delegate list|delete|prune|install-files}. */
@Command(name = "delegate", mixinStandardHelpOptions = true,
    description = "List delegates, delete the records of gone ones, and write install files.",
    subcommands = {DelegateCommands.ListDelegates.class, DelegateCommands.Delete.class, DelegateCommands.Prune.class,
        InstallFilesCommand.class})
final class DelegateCommands {

  static DelegateAdminGrpc.DelegateAdminBlockingStub stub(ManagedChannel channel, CallCredentials credentials) {
    return DelegateAdminGrpc.newBlockingStub(channel).withCallCredentials(credentials)
        .withDeadlineAfter(AdminCommand.deadline(), AdminCommand.deadlineUnit());
  }

  @Command(name = "list", mixinStandardHelpOptions = true,
      description = "List delegates with their status, token, host, version and last heartbeat.")
  static final class ListDelegates extends AdminCommand {
    @Option(names = "--account", paramLabel = "ACCOUNT_ID",
        description = "Only this account's delegates (its id, from 'account list'; default: all).")
    String account;

    @ArgGroup(exclusive = true)
    Connection connection;

    static final class Connection {
      @Option(names = "--connected", description = "Only delegates connected now.") boolean connected;
      @Option(names = "--disconnected", description = "Only delegates not connected now.") boolean disconnected;
    }

    @Override
    List<String> fields() {
      return Output.fieldNames(ListDelegatesResponse.getDescriptor());
    }

    @Override
    void run(ManagedChannel channel, CallCredentials credentials) {
      ConnectionFilter filter = connection == null ? ConnectionFilter.CONNECTION_ANY
          : connection.connected ? ConnectionFilter.CONNECTED : ConnectionFilter.DISCONNECTED;
      ListDelegatesResponse response = stub(channel, credentials).listDelegates(ListDelegatesRequest.newBuilder()
          .setAccountId(account == null ? "" : account).setConnection(filter).build());
      print(Output.of(response), () -> {
        Table table = new Table("NAME", "STATUS", "TOKEN", "HOSTNAME", "TYPE", "VERSION", "CONNECTED_SINCE",
            "LAST_HEARTBEAT", "REPLICA", "ACCOUNT_ID", "DELEGATE_ID");
        for (Delegate d : response.getDelegatesList()) {
          table.row(d.getName(), d.getConnected() ? "CONNECTED" : "DISCONNECTED", d.getTokenName(),
              d.getHostname(), d.getDelegateType(), d.getVersion(),
              d.getConnected() ? Table.time(d.getConnectedSinceUnixMs()) : "-",
              Table.time(d.getLastHeartbeatUnixMs()), d.getReplicaId().isEmpty() ? "-" : d.getReplicaId(),
              d.getAccountId(), d.getId());
        }
        table.print(System.out);
      });
    }
  }

  @Command(name = "delete", mixinStandardHelpOptions = true,
      description = "Delete the record of a delegate that is not connected (it comes back if it connects again).")
  static final class Delete extends AdminCommand {
    @Parameters(paramLabel = "DELEGATE_ID", description = "The delegate's id (DELEGATE_ID in 'delegate list').")
    String id;

    @Override
    List<String> fields() {
      return Output.fieldNames(DeleteDelegateResponse.getDescriptor());
    }

    @Override
    void run(ManagedChannel channel, CallCredentials credentials) {
      DeleteDelegateResponse response = stub(channel, credentials)
          .deleteDelegate(DeleteDelegateRequest.newBuilder().setDelegateId(id).build());
      Delegate d = response.getDelegate();
      print(Output.of(response), () -> System.out.println("delegate " + UserText.quote(d.getName()) + " on "
          + UserText.quote(d.getHostname()) + " (" + d.getId() + ", account " + d.getAccountId() + ") deleted"));
    }
  }

  @Command(name = "prune", mixinStandardHelpOptions = true,
      description = "Delete the records of delegates disconnected for at least a given time, and list them.")
  static final class Prune extends AdminCommand {
    @Option(names = "--disconnected-for", required = true, paramLabel = "DURATION", converter = Durations.class,
        description = "Delete delegates disconnected at least this long ago (for example 7d, 2w or 12h; at least 1m).")
    Duration disconnectedFor;
    @Option(names = "--account", paramLabel = "ACCOUNT_ID",
        description = "Only this account's delegates (its id, from 'account list'; default: all).")
    String account;
    @Option(names = "--dry-run", description = "Delete nothing; list the delegates that would be deleted.")
    boolean dryRun;

    @Override
    List<String> fields() {
      return Output.fieldNames(PruneDelegatesResponse.getDescriptor());
    }

    @Override
    void run(ManagedChannel channel, CallCredentials credentials) {
      PruneDelegatesResponse response = stub(channel, credentials).pruneDelegates(PruneDelegatesRequest.newBuilder()
          .setAccountId(account == null ? "" : account).setDisconnectedForMs(disconnectedFor.toMillis())
          .setDryRun(dryRun).build());
      print(Output.of(response), () -> {
        int n = response.getDelegatesCount();
        System.out.println((dryRun ? "dry run: would delete " : "deleted ") + n + (n == 1 ? " delegate" : " delegates")
            + " disconnected for at least " + Durations.format(disconnectedFor) + (n == 0 ? "" : ":"));
        if (n == 0) {
          return;
        }
        Table table = new Table("NAME", "HOSTNAME", "DISCONNECTED_AT", "TOKEN", "ACCOUNT_ID", "DELEGATE_ID");
        for (Delegate d : response.getDelegatesList()) {
          table.row(d.getName(), d.getHostname(), Table.time(d.getDisconnectedAtUnixMs()), d.getTokenName(),
              d.getAccountId(), d.getId());
        }
        table.print(System.out);
      });
    }
  }
}
