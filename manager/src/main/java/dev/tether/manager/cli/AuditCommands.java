package dev.tether.manager.cli;

import dev.tether.proto.admin.v1.AuditAdminGrpc;
import dev.tether.proto.admin.v1.AuditEvent;
import dev.tether.proto.admin.v1.ListAuditRequest;
import dev.tether.proto.admin.v1.ListAuditResponse;
import io.grpc.CallCredentials;
import io.grpc.ManagedChannel;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code tether-manager audit list}. */
@Command(name = "audit", mixinStandardHelpOptions = true, description = "Read the audit trail.",
    subcommands = {AuditCommands.ListAudit.class})
final class AuditCommands {

  @Command(name = "list", mixinStandardHelpOptions = true,
      description = "List audit events, newest first: who acted (an admin's name, 'system' for expiry), from where,"
          + " and what.")
  static final class ListAudit extends AdminCommand {
    @Option(names = "--account", paramLabel = "ACCOUNT_ID",
        description = "Only this account's events (its id, from 'account list'; default: all).")
    String account;
    @Option(names = "--admin", paramLabel = "NAME",
        description = "Only what this actor did: an admin's name, 'system' or 'unauthenticated' (default: all).")
    String admin;
    @Option(names = "--limit", paramLabel = "N", defaultValue = "100",
        description = "At most this many events, 1 to 10000 (default: ${DEFAULT-VALUE}).")
    int limit;

    @Override
    List<String> fields() {
      return Output.fieldNames(ListAuditResponse.getDescriptor());
    }

    @Override
    void check() {
      if (limit < 1) {
        throw new CliException("--limit " + limit + " is not positive (expected 1 to 10000)");
      }
    }

    @Override
    void run(ManagedChannel channel, CallCredentials credentials) {
      ListAuditResponse response = AuditAdminGrpc.newBlockingStub(channel).withCallCredentials(credentials)
          .withDeadlineAfter(deadline(), deadlineUnit())
          .listAudit(ListAuditRequest.newBuilder().setAccountId(account == null ? "" : account).setLimit(limit)
              .setActor(admin == null ? "" : admin).build());
      print(Output.of(response), () -> {
        Table table = new Table("TIME", "ACTOR", "ACTION", "ACCOUNT_ID", "TOKEN_ID", "REMOTE_ADDRESS", "DETAIL");
        for (AuditEvent e : response.getEventsList()) {
          table.row(Table.time(e.getAtUnixMs()), e.getActor(), e.getAction(), blank(e.getAccountId()),
              blank(e.getTokenId()), blank(e.getRemoteAddress()), e.getDetail());
        }
        table.print(System.out);
      });
    }

    private static String blank(String s) {
      return s.isEmpty() ? "-" : s;
    }
  }
}
