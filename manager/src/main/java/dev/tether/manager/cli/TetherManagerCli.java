package dev.tether.manager.cli;

import dev.tether.common.text.UserText;
import dev.tether.common.token.Secrets;
import java.nio.file.FileSystemException;
import java.util.Arrays;
import java.util.List;
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
        + " their defaults.")
public final class TetherManagerCli {

  /** The commands under the root, in the order help lists them (added by {@link #commandLine(String...)}). */
  private static final List<Class<?>> COMMANDS = List.of(ServeCommand.class, AdminCommands.class,
      AccountCommands.class, TokenCommands.class, DelegateCommands.class, AuditCommands.class, ConsoleCommands.class,
      HelpCommand.class, VersionCommand.class, CompletionCommand.class);

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
      if (reachesManager(args)) {
        // the channel's set-up (gRPC's name resolvers, Netty's OpenSSL probe, the admin API's
        // descriptors) does not depend on the command line: it runs on the second core while picocli
        // builds and parses the command, some 0.1 s of an admin command's start (docs/benchmarks.md, cli)
        Thread warmUp = new Thread(TetherManagerCli::warmUp, "tether-cli-warm-up");
        warmUp.setDaemon(true);
        warmUp.start();
      }
      System.exit(run(args));
    }
    // Logback reads its configuration while picocli reads the command tree's annotations: each
    // takes a few hundred milliseconds of a start, and neither uses the other (building the tree
    // logs nothing). serve logs only after both are done.
    Thread logging = new Thread(org.slf4j.LoggerFactory::getILoggerFactory, "tether-log-init");
    logging.start();
    CommandLine cli = commandLine(args);
    com.google.common.util.concurrent.Uninterruptibles.joinUninterruptibly(logging);
    System.exit(cli.execute(args));
  }

  /** Runs a command line and returns its exit code (tests call this). */
  public static int run(String... args) {
    return commandLine(args).execute(args);
  }

  /** The whole command tree, as picocli sees it (its annotation names no subcommands: they are added here). */
  public static CommandLine commandLine() {
    return commandLine(new String[0]);
  }

  /**
   * The command tree {@code args} need: the named command alone when the first argument names one
   * (picocli reads the annotations of every command it is given, some 80 ms for the whole tree, and
   * an admin command needs only its own), else the whole tree, for help, completion, the root's
   * options and the suggestions after a mistyped name.
   */
  static CommandLine commandLine(String... args) {
    CommandLine cli = new CommandLine(new TetherManagerCli());
    Class<?> only = args.length == 0 ? null : COMMANDS.stream()
        .filter(command -> command != HelpCommand.class && command != CompletionCommand.class)
        .filter(command -> command.getAnnotation(Command.class).name().equals(args[0]))
        .findFirst().orElse(null);
    for (Class<?> command : only == null ? COMMANDS : List.<Class<?>>of(only)) {
      cli.addSubcommand(command);
    }
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
   * Whether {@code args} may be an admin command, which opens a channel to the manager: not help,
   * version, completion or an empty command line.
   */
  static boolean reachesManager(String... args) {
    if (args.length < 2 || List.of("help", "version", "completion").contains(args[0])) {
      return false;
    }
    return Arrays.stream(args).noneMatch(arg -> List.of("-h", "--help", "-V", "--version").contains(arg));
  }

  /**
   * Initialises what every admin command's channel uses, so that the command finds it ready. Runs
   * nothing of the command's own: no file is read, no connection made; an error here is left for
   * the command to meet and report.
   */
  private static void warmUp() {
    try {
      io.grpc.NameResolverRegistry.getDefaultRegistry();
      io.grpc.netty.shaded.io.netty.handler.ssl.OpenSsl.isAvailable();
      dev.tether.proto.admin.v1.AdminProto.getDescriptor();
    } catch (RuntimeException | LinkageError e) {
      // the command's own use of the same classes reports what is wrong
    }
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
