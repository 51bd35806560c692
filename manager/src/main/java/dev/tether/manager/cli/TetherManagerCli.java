package dev.tether.manager.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** Entry point of {@code tether-manager}: the server and the admin commands. */
@Command(name = "tether-manager", mixinStandardHelpOptions = true, versionProvider = TetherManagerCli.Version.class,
    description = "Tether manager: serve delegates, and administer accounts, tokens and delegates.",
    subcommands = {ServeCommand.class, AccountCommands.class, TokenCommands.class,
        DelegateCommands.class, AuditCommands.class})
public final class TetherManagerCli {

  private TetherManagerCli() {}

  public static void main(String[] args) {
    // gRPC and Netty log through java.util.logging: route it into the same logs
    org.slf4j.bridge.SLF4JBridgeHandler.removeHandlersForRootLogger();
    org.slf4j.bridge.SLF4JBridgeHandler.install();
    System.exit(run(args));
  }

  /** Runs a command line and returns its exit code (tests call this). */
  public static int run(String... args) {
    CommandLine cli = new CommandLine(new TetherManagerCli());
    cli.setExecutionExceptionHandler((e, commandLine, parseResult) -> {
      if (e instanceof CliException || e instanceof IllegalArgumentException || e instanceof IllegalStateException) {
        commandLine.getErr().println("error: " + dev.tether.common.token.Secrets.redact(e.getMessage()));
        return 1;
      }
      if (e instanceof java.io.IOException) {
        commandLine.getErr().println("error: " + e.getMessage());
        return 1;
      }
      throw e;
    });
    return cli.execute(args);
  }

  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      String v = TetherManagerCli.class.getPackage().getImplementationVersion();
      return new String[] {"tether-manager " + (v == null ? "dev" : v)};
    }
  }
}
