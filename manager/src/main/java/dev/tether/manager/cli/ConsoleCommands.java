package dev.tether.manager.cli;

import dev.tether.proto.admin.v1.AdminAccessGrpc;
import dev.tether.proto.admin.v1.CreateConsoleLoginRequest;
import dev.tether.proto.admin.v1.CreateConsoleLoginResponse;
import io.grpc.CallCredentials;
import io.grpc.ManagedChannel;
import java.util.List;
import picocli.CommandLine.Command;

/** {@code tether-manager console login}. */
@Command(name = "console", mixinStandardHelpOptions = true, description = "The web console (serve --console-listen).",
    subcommands = {ConsoleCommands.Login.class})
final class ConsoleCommands {

  @Command(name = "login", mixinStandardHelpOptions = true,
      description = "Print a one-time link that signs you in to the web console of the manager this command reaches,"
          + " as the admin whose credential it uses: valid for one use within 5 minutes.")
  static final class Login extends AdminCommand {

    @Override
    List<String> fields() {
      return Output.fieldNames(CreateConsoleLoginResponse.getDescriptor());
    }

    @Override
    void run(ManagedChannel channel, CallCredentials credentials) {
      CreateConsoleLoginResponse response = AdminAccessGrpc.newBlockingStub(channel).withCallCredentials(credentials)
          .withDeadlineAfter(deadline(), deadlineUnit())
          .createConsoleLogin(CreateConsoleLoginRequest.getDefaultInstance());
      print(Output.of(response), () -> {
        System.out.println(response.getUrl());
        System.err.println("open this link within 5 minutes (until " + Table.time(response.getExpiresAtUnixMs())
            + "); it works once. Your browser warns about the manager's self-signed certificate until you trust"
            + " its CA (docs/console.md).");
      });
    }
  }
}
