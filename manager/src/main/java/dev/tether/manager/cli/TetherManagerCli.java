package dev.tether.manager.cli;

import dev.tether.common.text.UserText;
import dev.tether.common.token.Secrets;
import java.nio.file.FileSystemException;
import java.util.concurrent.Callable;
import picocli.AutoComplete;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.HelpCommand;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** Entry point of {@code tether-manager}: the server and the admin commands. */
@Command(name = "tether-manager", mixinStandardHelpOptions = true, versionProvider = TetherManagerCli.Version.class,
    description = "Tether manager: serve delegates, and administer admins, accounts, tokens and delegates."
        + " Admin commands read TETHER_MANAGER, TETHER_ADMIN_KEY_FILE, TETHER_CA_FILE and TETHER_DATA_DIR for"
        + " their defaults.",
    subcommands = {ServeCommand.class, AdminCommands.class, AccountCommands.class, TokenCommands.class,
        DelegateCommands.class, AuditCommands.class, ConsoleCommands.class, HelpCommand.class, TetherManagerCli.VersionCommand.class,
        TetherManagerCli.CompletionCommand.class})
public final class TetherManagerCli {

  private TetherManagerCli() {}

  public static void main(String[] args) {
    boolean serve = args.length > 0 && args[0].equals("serve");
    if (serve || dev.tether.common.logging.LogFormats.JSON.equals(
        dev.tether.common.logging.LogFormats.format(System.getenv(dev.tether.common.logging.LogFormats.VARIABLE))
            .orElse(null))) {
      // gRPC logs through java.util.logging: route it into the server's log (and, with JSON logs, into JSON)
      org.slf4j.bridge.SLF4JBridgeHandler.removeHandlersForRootLogger();
      org.slf4j.bridge.SLF4JBridgeHandler.install();
    } else {
      // an admin command prints its own errors; Netty's few log lines go through
      // java.util.logging (warnings only, on stderr) rather than start Logback, which costs
      // some 80 ms of a command's start (docs/benchmarks.md, cli)
      io.grpc.netty.shaded.io.netty.util.internal.logging.InternalLoggerFactory.setDefaultFactory(
          io.grpc.netty.shaded.io.netty.util.internal.logging.JdkLoggerFactory.INSTANCE);
      java.util.logging.Logger.getLogger("").setLevel(java.util.logging.Level.WARNING);
    }
    if (!serve) {
      System.exit(run(args));
    }
    // Logback reads its configuration while picocli reads the command tree's annotations: each
    // takes a few hundred milliseconds of a start, and neither uses the other (building the tree
    // logs nothing). serve logs only after both are done.
    Thread logging = new Thread(org.slf4j.LoggerFactory::getILoggerFactory, "tether-log-init");
    logging.start();
    CommandLine cli = commandLine();
    com.google.common.util.concurrent.Uninterruptibles.joinUninterruptibly(logging);
    System.exit(cli.execute(args));
  }

  /** Runs a command line and returns its exit code (tests call this). */
  public static int run(String... args) {
    return commandLine().execute(args);
  }

  /** The whole command tree, as {@link #run} executes it. */
  static CommandLine commandLine() {
    CommandLine cli = new CommandLine(new TetherManagerCli());
    cli.setCaseInsensitiveEnumValuesAllowed(true);
    cli.setParameterExceptionHandler(TetherManagerCli::invalidInput);
    cli.setExecutionExceptionHandler((e, commandLine, parseResult) -> {
      if (e instanceof CliException || e instanceof IllegalArgumentException || e instanceof IllegalStateException) {
        commandLine.getErr().println("error: " + Secrets.redact(e.getMessage()));
        return 1;
      }
      if (e instanceof FileSystemException f) {
        commandLine.getErr().println("error: " + describe(f));
        return 1;
      }
      if (e instanceof java.io.IOException) {
        commandLine.getErr().println("error: " + e.getMessage());
        return 1;
      }
      throw e;
    });
    return cli;
  }

  /**
   * A command line that does not parse: the error and where to read more, not the whole usage
   * help, which would push the error off the screen.
   */
  private static int invalidInput(CommandLine.ParameterException e, String[] args) {
    CommandLine command = e.getCommandLine();
    java.io.PrintWriter err = command.getErr();
    err.println("error: " + Secrets.redact(e.getMessage()));
    CommandLine.UnmatchedArgumentException.printSuggestions(e, err);
    err.println("Run '" + command.getCommandSpec().qualifiedName() + " --help' for its options, or 'tether-manager"
        + " help' for the commands.");
    err.flush();
    return command.getCommandSpec().exitCodeOnInvalidInput();
  }

  /** A file operation that failed, as "FILE: what the system said": the JDK's message is the file alone. */
  static String describe(FileSystemException e) {
    String file = e.getFile() == null ? "a file" : UserText.quote(e.getFile());
    return file + (e.getOtherFile() == null ? "" : " -> " + UserText.quote(e.getOtherFile())) + ": " + reason(e);
  }

  /** What a file operation's failure means, in words. */
  static String reason(FileSystemException e) {
    String kind = switch (e.getClass().getSimpleName()) {
      case "NoSuchFileException" -> "no such file or directory, or the file system does not allow creating it";
      case "AccessDeniedException" -> "permission denied";
      case "FileAlreadyExistsException" -> "a file already exists there";
      case "NotDirectoryException" -> "not a directory";
      case "DirectoryNotEmptyException" -> "the directory is not empty";
      default -> "failed";
    };
    return kind + (e.getReason() == null ? "" : " (" + e.getReason() + ")") + " [" + e.getClass().getSimpleName() + "]";
  }

  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      String v = TetherManagerCli.class.getPackage().getImplementationVersion();
      return new String[] {"tether-manager " + (v == null ? "dev" : v)};
    }
  }

  /** {@code tether-manager version}: the same line as {@code --version}. */
  @Command(name = "version", mixinStandardHelpOptions = true, versionProvider = Version.class,
      description = "Print this program's version (from its jar) and exit.")
  static final class VersionCommand implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Override
    public Integer call() {
      spec.commandLine().printVersionHelp(spec.commandLine().getOut());
      return 0;
    }
  }

  /** {@code tether-manager completion}: a bash (and zsh) completion script generated by picocli from this command tree. */
  @Command(name = "completion", mixinStandardHelpOptions = true, versionProvider = Version.class,
      description = {"Print a shell completion script for tether-manager (bash; zsh with bashcompinit).",
          "Load it with: source <(tether-manager completion)",
          "or save it as /etc/bash_completion.d/tether-manager."})
  static final class CompletionCommand implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Override
    public Integer call() {
      CommandLine root = spec.root().commandLine();
      spec.commandLine().getOut().print(AutoComplete.bash(root.getCommandName(), root));
      spec.commandLine().getOut().flush();
      return 0;
    }
  }
}
