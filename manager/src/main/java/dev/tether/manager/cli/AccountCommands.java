package dev.tether.manager.cli;

import dev.tether.common.text.UserText;
import dev.tether.proto.admin.v1.Account;
import dev.tether.proto.admin.v1.AccountAdminGrpc;
import dev.tether.proto.admin.v1.CreateAccountRequest;
import dev.tether.proto.admin.v1.CreateAccountResponse;
import dev.tether.proto.admin.v1.ListAccountsRequest;
import dev.tether.proto.admin.v1.ListAccountsResponse;
import io.grpc.CallCredentials;
import io.grpc.ManagedChannel;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** {@code tether-manager account create|list}. */
@Command(name = "account", mixinStandardHelpOptions = true, description = "Create and list accounts.",
    subcommands = {AccountCommands.Create.class, AccountCommands.ListAccounts.class})
final class AccountCommands {

  static AccountAdminGrpc.AccountAdminBlockingStub stub(ManagedChannel channel, CallCredentials credentials) {
    return AccountAdminGrpc.newBlockingStub(channel).withCallCredentials(credentials)
        .withDeadlineAfter(AdminCommand.deadline(), AdminCommand.deadlineUnit());
  }

  @Command(name = "create", mixinStandardHelpOptions = true,
      description = "Create an account and its 'default' token (the token value is shown once).")
  static final class Create extends AdminCommand {
    @Parameters(paramLabel = "NAME", description = "Account name: letters, digits, '.', '_' or '-'.")
    String name;

    @Override
    List<String> fields() {
      return Output.fieldNames(CreateAccountResponse.getDescriptor());
    }

    @Override
    void run(ManagedChannel channel, CallCredentials credentials) {
      CreateAccountResponse response = stub(channel, credentials)
          .createAccount(CreateAccountRequest.newBuilder().setName(name).build());
      print(Output.of(response), () -> {
        System.out.println("account created: " + UserText.quoteIfNeeded(response.getAccount().getName())
            + " (ACCOUNT_ID " + response.getAccount().getId() + ")");
        TokenCommands.printValueOnce("default", response.getDefaultToken().getTokenId(), response.getValue());
      });
    }
  }

  @Command(name = "list", mixinStandardHelpOptions = true, description = "List accounts.")
  static final class ListAccounts extends AdminCommand {
    @Override
    List<String> fields() {
      return Output.fieldNames(ListAccountsResponse.getDescriptor());
    }

    @Override
    void run(ManagedChannel channel, CallCredentials credentials) {
      ListAccountsResponse response = stub(channel, credentials).listAccounts(ListAccountsRequest.getDefaultInstance());
      print(Output.of(response), () -> {
        Table table = new Table("ACCOUNT_ID", "NAME", "CREATED");
        for (Account a : response.getAccountsList()) {
          table.row(a.getId(), a.getName(), Table.time(a.getCreatedAtUnixMs()));
        }
        table.print(System.out);
      });
    }
  }
}
