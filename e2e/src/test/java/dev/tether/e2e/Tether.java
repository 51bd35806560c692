package dev.tether.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Message;
import dev.tether.common.testing.TokenLedger;
import dev.tether.common.token.DelegateToken;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Drives the real programs: a {@code tether-manager serve} process on a loopback port chosen by
 * the OS, the admin CLI as separate processes, and delegate processes. Every token value the CLI
 * shows is recorded in the {@link TokenLedger} so that logs can be scanned for leaks.
 */
final class Tether implements AutoCloseable {

  static final Path MANAGER_JAR = Path.of(System.getProperty("tether.manager.jar", "../manager/target/tether-manager.jar"));
  static final Path DELEGATE_JAR = Path.of(System.getProperty("tether.delegate.jar", "../delegate/target/tether-delegate.jar"));
  /**
   * Admin commands run through the launcher, as the README has operators run them: its JVM flags
   * and class archive make a command cost about a third of the CPU of {@code java -jar} (the e2e
   * module runs some two hundred of them).
   */
  static final Path LAUNCHER = Path.of("../scripts/tether-manager").toAbsolutePath().normalize();
  static final Path LOGS = Path.of(System.getProperty("tether.e2e.logs", "target/e2e-logs"));

  final Path dataDir;
  final Path logDir;
  private final List<String> serveArgs;
  private final List<Proc> processes = new ArrayList<>();
  private Proc manager;
  private int port;
  private int adminPort;
  private int opsPort;
  private String consoleUrl;
  private int sequence;

  /** The result of one CLI run. */
  record Result(int exit, String out, String err) {
    Result ok() {
      assertThat(exit).as("exit code; stderr: %s", err).isZero();
      return this;
    }
  }

  Tether(Path dataDir, String testName, String... extraServeArgs) {
    this.dataDir = dataDir;
    this.logDir = LOGS.resolve(testName);
    this.serveArgs = List.of(extraServeArgs);
    assertThat(MANAGER_JAR).as("manager jar (built by the manager module)").exists();
    assertThat(DELEGATE_JAR).as("delegate jar (built by the delegate module)").exists();
  }

  Tether start() {
    // tokens that expire in 20 s let the expiry tests finish sooner than the default floor of 1 minute
    List<String> command = new ArrayList<>(List.of(java(), "-Xmx256m", "-jar", MANAGER_JAR.toString(),
        "serve", "--listen", "127.0.0.1:" + port, "--admin-listen", "127.0.0.1:" + adminPort,
        "--ops-listen", "127.0.0.1:" + opsPort,
        "--data-dir", dataDir.toString(), "--min-token-lifetime", "10s"));
    // the console's default port (7480) is one for the whole machine: managers running side by side
    // (two replicas, test classes in parallel forks) each take one of their own unless a test says otherwise
    boolean consoleChosen = serveArgs.contains("--console-listen");
    if (!consoleChosen) {
      command.addAll(List.of("--console-listen", "127.0.0.1:0"));
    }
    command.addAll(serveArgs);
    manager = Proc.start("manager-" + (++sequence), logDir, Map.of(), command);
    processes.add(manager);
    port = Integer.parseInt(manager.awaitLine("listening on 127\\.0\\.0\\.1:(\\d+)", Duration.ofSeconds(60)));
    adminPort = Integer.parseInt(manager.awaitLine("admin API and reflection on 127\\.0\\.0\\.1:(\\d+)",
        Duration.ofSeconds(10)));
    opsPort = Integer.parseInt(manager.awaitLine("metrics and health .* on http://127\\.0\\.0\\.1:(\\d+)",
        Duration.ofSeconds(10)));
    boolean consoleOff = consoleChosen
        && serveArgs.get(serveArgs.indexOf("--console-listen") + 1).strip().equalsIgnoreCase("off");
    consoleUrl = consoleOff ? null
        : manager.awaitLine("web console on (https?://127\\.0\\.0\\.1:\\d+)", Duration.ofSeconds(10));
    manager.awaitLine("admin key", Duration.ofSeconds(10));
    return this;
  }

  Proc manager() {
    return manager;
  }

  /** The delegate listener's port. */
  int port() {
    return port;
  }

  /** The ops listener's port (/metrics, /healthz, /readyz). */
  int opsPort() {
    return opsPort;
  }

  /** The web console's address, {@code https://127.0.0.1:PORT} ({@code http://} with --plaintext). */
  String consoleUrl() {
    assertThat(consoleUrl).as("the web console (started with --console-listen off?)").isNotNull();
    return consoleUrl;
  }

  /** The admin listener's port. */
  int adminPort() {
    return adminPort;
  }

  /** Runs {@code tether-manager ARGS --manager 127.0.0.1:ADMIN_PORT --data-dir DIR}. */
  Result cli(String... args) {
    List<String> command = new ArrayList<>(List.of(LAUNCHER.toString()));
    command.addAll(List.of(args));
    command.addAll(List.of("--manager", "127.0.0.1:" + adminPort, "--data-dir", dataDir.toString()));
    return run(command, null);
  }

  /** Runs the CLI exactly as given (no --manager or --data-dir added). */
  Result rawCli(String stdin, String... args) {
    List<String> command = new ArrayList<>(List.of(LAUNCHER.toString()));
    command.addAll(List.of(args));
    return run(command, stdin);
  }

  Result cliWithStdin(String stdin, String... args) {
    List<String> command = new ArrayList<>(List.of(LAUNCHER.toString()));
    command.addAll(List.of(args));
    command.addAll(List.of("--manager", "127.0.0.1:" + adminPort, "--data-dir", dataDir.toString()));
    return run(command, stdin);
  }

  private Result run(List<String> command, String stdin) {
    try {
      Path out = Files.createTempFile("tether-cli", ".out");
      Path err = Files.createTempFile("tether-cli", ".err");
      ProcessBuilder builder = new ProcessBuilder(command).redirectOutput(out.toFile()).redirectError(err.toFile());
      launcherEnvironment(builder.environment());
      Process process = builder.start();
      if (stdin != null) {
        process.getOutputStream().write(stdin.getBytes(StandardCharsets.UTF_8));
      }
      process.getOutputStream().close();
      if (!process.waitFor(90, TimeUnit.SECONDS)) {
        process.destroyForcibly();
        throw new AssertionError("CLI did not finish: " + command);
      }
      Result result = new Result(process.exitValue(), Files.readString(out), Files.readString(err));
      Files.delete(out);
      Files.delete(err);
      return result;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }

  /** Creates an account through the CLI; returns its id. */
  String account(String name) {
    dev.tether.proto.admin.v1.CreateAccountResponse response = parse(cli("account", "create", name, "--json").ok().out(),
        dev.tether.proto.admin.v1.CreateAccountResponse.getDefaultInstance());
    TokenLedger.record(DelegateToken.parse("default token", response.getValue()));
    return response.getAccount().getId();
  }

  /** Creates a token through the CLI; returns its value. */
  String token(String accountId, String name, String... extra) {
    List<String> args = new ArrayList<>(List.of("token", "create", "--account", accountId, "--name", name, "--json"));
    args.addAll(List.of(extra));
    dev.tether.proto.admin.v1.CreateTokenResponse response = parse(cli(args.toArray(String[]::new)).ok().out(),
        dev.tether.proto.admin.v1.CreateTokenResponse.getDefaultInstance());
    TokenLedger.record(DelegateToken.parse("created token", response.getValue()));
    return response.getValue();
  }

  dev.tether.proto.admin.v1.ListDelegatesResponse delegates(String accountId) {
    return parse(cli("delegate", "list", "--account", accountId, "--json").ok().out(),
        dev.tether.proto.admin.v1.ListDelegatesResponse.getDefaultInstance());
  }

  dev.tether.proto.admin.v1.Delegate delegate(String accountId, String name) {
    return delegates(accountId).getDelegatesList().stream().filter(d -> d.getName().equals(name))
        .findFirst().orElseThrow(() -> new AssertionError("no delegate named " + name));
  }

  /** Starts a delegate process with {@code env} (plus {@code args}, such as --config FILE). */
  Proc delegate(String name, Map<String, String> env, String... args) {
    Map<String, String> all = new HashMap<>(env);
    all.putIfAbsent("DELEGATE_NAME", name);
    all.putIfAbsent("HOSTNAME", name + "-host");
    List<String> command = new ArrayList<>(List.of(java(), "-Xmx128m", "-jar", DELEGATE_JAR.toString()));
    command.addAll(List.of(args));
    Proc proc = Proc.start("delegate-" + name, logDir, all, command);
    processes.add(proc);
    return proc;
  }

  Map<String, String> env(String accountId, String token) {
    return Map.of("ACCOUNT_ID", accountId, "DELEGATE_TOKEN", token,
        "MANAGER_HOST_AND_PORT", "https://127.0.0.1:" + port);
  }

  /** Every captured process output (manager and delegates), for leak scans. */
  /** Every recorded token value found in the processes' captured output, as "FILE holds token tdt_xxxx...". */
  List<String> leaksInOutputs() throws java.io.IOException {
    List<String> leaks = new ArrayList<>();
    for (Path file : capturedOutputs()) {
      String text = java.nio.file.Files.exists(file)
          ? java.nio.file.Files.readString(file, java.nio.charset.StandardCharsets.ISO_8859_1) : "";
      for (String leaked : dev.tether.common.testing.TokenLedger.leaksIn(text)) {
        leaks.add(file.getFileName() + " holds token " + leaked.substring(0, 8) + "...");
      }
    }
    return leaks;
  }

  List<Path> capturedOutputs() {
    List<Path> files = new ArrayList<>();
    for (Proc p : processes) {
      files.add(p.stdoutFile());
      files.add(p.stderrFile());
    }
    return files;
  }

  void stopManager() {
    manager.terminate();
    assertThat(manager.awaitExit(Duration.ofSeconds(30))).isZero();
  }

  @Override
  public void close() {
    for (Proc p : processes) {
      p.close();
    }
  }

  /** Reads the CLI's --json output back into its response message (docs/cli-output.md). */
  static <T extends Message> T parse(String json, T prototype) {
    try {
      return dev.tether.manager.cli.CliJson.read(json, prototype);
    } catch (IOException e) {
      throw new AssertionError("not JSON: " + json, e);
    }
  }

  /** The launcher runs {@link #MANAGER_JAR} with the java running the tests, and only its own JVM options. */
  static void launcherEnvironment(Map<String, String> env) {
    env.remove("JAVA_OPTS");
    env.remove("JAVA_TOOL_OPTIONS");
    env.remove("TETHER_CDS");
    env.put("TETHER_MANAGER_JAR", MANAGER_JAR.toAbsolutePath().normalize().toString());
    env.put("PATH", Path.of(System.getProperty("java.home"), "bin") + ":" + System.getenv("PATH"));
  }

  private static String java() {
    return Path.of(System.getProperty("java.home"), "bin", "java").toString();
  }
}
