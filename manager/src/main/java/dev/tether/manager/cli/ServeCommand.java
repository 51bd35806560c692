package dev.tether.manager.cli;

import dev.tether.common.logging.LogOutput;
import dev.tether.common.text.UserText;
import dev.tether.manager.auth.HandshakeLimiter;
import dev.tether.manager.heartbeat.HeartbeatSettings;
import dev.tether.manager.logging.LogFormatOption;
import dev.tether.manager.server.ManagerServer;
import dev.tether.manager.server.ManagerSettings;
import dev.tether.manager.server.TransportLimits;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code tether-manager serve}: runs the manager until SIGTERM. */
@Command(name = "serve", mixinStandardHelpOptions = true,
    description = "Run the manager: the delegate listener (handshake, streams, health) and the admin"
        + " listener (admin API, reflection).")
final class ServeCommand implements Callable<Integer> {

  @Spec CommandSpec spec;

  @Option(names = "--listen", paramLabel = "HOST:PORT", defaultValue = "0.0.0.0:7443",
      converter = HostPort.class, description = "Address of the delegate listener: handshake, delegate"
          + " streams and gRPC health, nothing else (default: ${DEFAULT-VALUE}).")
  InetSocketAddress listen;

  @Option(names = "--admin-listen", paramLabel = "HOST:PORT|off", defaultValue = "127.0.0.1:7444",
      description = "Address of the admin listener: the admin API and gRPC reflection, with the same TLS"
          + " certificate. Loopback by default; another address exposes it to the network. 'off': no"
          + " admin listener (default: ${DEFAULT-VALUE}).")
  String adminListen;

  @Option(names = "--ops-listen", paramLabel = "HOST:PORT|off", defaultValue = "127.0.0.1:9464",
      description = "Address of the ops listener, plain HTTP: /metrics (Prometheus), /healthz and /readyz for"
          + " probes. It serves no secret, but counts and account ids: keep it on loopback or a monitoring"
          + " network. 'off': no ops listener (default: ${DEFAULT-VALUE}).")
  String opsListen;

  @Option(names = "--console-listen", paramLabel = "HOST:PORT|off", defaultValue = "127.0.0.1:7480",
      description = "Address of the web console: HTTPS with the manager's certificate (HTTP with --plaintext),"
          + " signed in with an admin credential or a 'console login' link. Loopback by default; another"
          + " address exposes it to the network. 'off': no console (default: ${DEFAULT-VALUE}).")
  String consoleListen;

  @Option(names = "--data-dir", paramLabel = "DIR", defaultValue = "${env:TETHER_DATA_DIR:-./tether-data}",
      description = "Where the database, master key, admin key and TLS files live. Default: the environment"
          + " variable TETHER_DATA_DIR, else ./tether-data (now: ${DEFAULT-VALUE}).")
  Path dataDir;

  @Option(names = "--db-url", paramLabel = "JDBC_URL",
      description = "Database URL (default: embedded H2 in the data directory). User and password"
          + " come from TETHER_DB_USER / TETHER_DB_PASSWORD or TETHER_DB_PASSWORD_FILE, never a flag.")
  String dbUrl;

  @Option(names = "--plaintext", description = "Serve without TLS: the admin key and all delegate traffic"
      + " cross the network in the clear. For local development only; refused on an address that is not"
      + " loopback unless --allow-plaintext-on-network is given too.")
  boolean plaintext;

  @Option(names = "--allow-plaintext-on-network", description = "With --plaintext, accept a --listen address"
      + " that is not loopback, such as the default 0.0.0.0: anyone on the network path can then read the"
      + " admin key and delegate traffic. Only where the network is protected in another way.")
  boolean plaintextOnNetwork;

  @Option(names = "--tls-cert", paramLabel = "FILE", description = "PEM certificate chain to serve instead of the generated one.")
  Path tlsCert;

  @Option(names = "--tls-key", paramLabel = "FILE", description = "PKCS#8 PEM private key for --tls-cert.")
  Path tlsKey;

  @Option(names = "--tls-name", paramLabel = "NAME", split = ",",
      description = "Extra DNS names or IP addresses for the generated certificate (first start only).")
  List<String> tlsNames = new ArrayList<>();

  @Option(names = "--heartbeat-interval", paramLabel = "DURATION", defaultValue = "10s",
      converter = Durations.class, description = "How often delegates heartbeat (default: ${DEFAULT-VALUE}).")
  Duration heartbeatInterval;

  @Option(names = "--handshake-timeout", paramLabel = "DURATION", defaultValue = "10s",
      converter = Durations.class, description = "Deadline for a delegate handshake (default: ${DEFAULT-VALUE}).")
  Duration handshakeTimeout;

  @Option(names = "--max-handshakes-in-progress", paramLabel = "N", defaultValue = "512",
      description = "Handshakes that may be in progress at once (default: ${DEFAULT-VALUE}).")
  int maxHandshakes;

  @Option(names = "--failed-handshakes-per-address", paramLabel = "BURST/PER_SECOND", defaultValue = "30/1",
      description = "Token bucket of failed handshakes per remote address (default: ${DEFAULT-VALUE}).")
  String addressLimit;

  @Option(names = "--max-handshakes-per-address", paramLabel = "N", defaultValue = "64",
      description = "Handshakes one remote address may have in progress at once (default: ${DEFAULT-VALUE}).")
  int maxHandshakesPerAddress;

  @Option(names = "--max-handshakes-per-connection", paramLabel = "N", defaultValue = "4",
      description = "Handshakes one connection may have in progress at once (default: ${DEFAULT-VALUE}).")
  int maxHandshakesPerConnection;

  @Option(names = "--max-connections-per-address", paramLabel = "N", defaultValue = "1000",
      description = "Connections one remote address may hold open to the delegate listener; raise it for many"
          + " delegates behind one NAT address (default: ${DEFAULT-VALUE}).")
  int maxConnectionsPerAddress;

  @Option(names = "--max-calls-per-connection", paramLabel = "N", defaultValue = "100",
      description = "Calls one connection may carry at once (HTTP/2 max concurrent streams; default: ${DEFAULT-VALUE}).")
  int maxCallsPerConnection;

  /** For tests that wait for an expiry: the shortest token lifetime admins may ask for. */
  @Option(names = "--min-token-lifetime", paramLabel = "DURATION", hidden = true, defaultValue = "1m",
      converter = Durations.class, description = "For tests: the shortest token lifetime admins may ask for"
          + " (default: ${DEFAULT-VALUE}).")
  Duration minTokenLifetime;

  @Option(names = "--log-format", paramLabel = "text|json", converter = LogFormatOption.class,
      completionCandidates = LogFormatOption.class, description = "Logs on standard error as text lines, or as"
          + " one JSON object per line. Default: the environment variable TETHER_LOG_FORMAT, else text.")
  String logFormat;

  /** Accepted so that existing service files keep working; a correct proof is never refused per token now. */
  @Option(names = "--failed-handshakes-per-token", paramLabel = "BURST/PER_SECOND", hidden = true,
      description = "No effect any more (a warning says so); accepted so that old service files still start.")
  String tokenLimit;

  @Override
  public Integer call() throws Exception {
    if (logFormat != null) {
      // logback started in the format of TETHER_LOG_FORMAT; serve has logged nothing yet
      LogOutput.use(logFormat);
    }
    if (tokenLimit != null) {
      warn("WARNING: --failed-handshakes-per-token has no effect any more and will be removed: a"
          + " correct proof is never refused because of other clients' failures (docs/security.md, limits)");
    }
    ManagerServer.Options options = options();
    ManagerServer server = start(options);
    server.banner().forEach(System.out::println);
    if (plaintext) {
      warn(plaintextWarning());
      if (options.adminListen() != null && !isLoopback(resolved(options.adminListen()))) {
        warn(adminPlaintextWarning(options.adminListen()));
      }
    }
    System.out.flush();
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      server.close();
      System.out.println("tether-manager stopped: streams closed, database closed");
      System.out.flush();
      stopped.countDown();
      // a stop by signal is a clean stop: exit 0 rather than 143
      Runtime.getRuntime().halt(0);
    }, "tether-shutdown"));
    server.awaitTermination();
    stopped.await();
    return 0;
  }

  /** Starts the manager; a file it cannot create or read is named with what it is for. */
  private ManagerServer start(ManagerServer.Options options) throws IOException {
    try {
      return ManagerServer.start(options);
    } catch (FileSystemException e) {
      throw new CliException(describeStartFailure(e, options.dataDir()));
    }
  }

  /**
   * "cannot create the data directory DIR: REASON" when the failing file is the data directory or
   * one above it, "cannot create or read FILE in the data directory DIR: REASON" for a file in it.
   */
  static String describeStartFailure(FileSystemException e, Path dataDir) {
    Path dir = dataDir.toAbsolutePath().normalize();
    Path file = e.getFile() == null ? null : Path.of(e.getFile()).toAbsolutePath().normalize();
    String advice = "; choose another --data-dir (or TETHER_DATA_DIR), or create " + UserText.quote(dir.toString())
        + " as a directory this user can write";
    if (file == null || dir.startsWith(file)) {
      return "cannot create the data directory " + UserText.quote(dir.toString()) + ": "
          + (file == null || file.equals(dir) ? "" : UserText.quote(file.toString()) + ": ")
          + TetherManagerCli.reason(e) + advice;
    }
    if (file.startsWith(dir)) {
      return "cannot create or read " + UserText.quote(file.toString()) + " in the data directory "
          + UserText.quote(dir.toString()) + ": " + TetherManagerCli.reason(e)
          + "; check the ownership and permissions of the data directory (chmod 700, owned by this user)";
    }
    return "cannot start the manager: " + TetherManagerCli.describe(e);
  }

  /** What the flags ask for, checked; refuses contradictions and plaintext on the network. */
  ManagerServer.Options options() throws IOException {
    if ((tlsCert == null) != (tlsKey == null)) {
      throw new ParameterException(spec.commandLine(), "--tls-cert and --tls-key go together: give both or neither");
    }
    if (plaintext && tlsCert != null) {
      throw new ParameterException(spec.commandLine(), "--plaintext and --tls-cert contradict each other: choose one");
    }
    if (plaintextOnNetwork && !plaintext) {
      throw new ParameterException(spec.commandLine(), "--allow-plaintext-on-network goes with --plaintext,"
          + " which is not given (TLS is on): drop it");
    }
    InetSocketAddress address = resolved(listen);
    InetSocketAddress admin = adminAddress();
    if (admin != null && admin.getPort() != 0 && admin.getPort() == address.getPort() && overlap(admin, address)) {
      throw new ParameterException(spec.commandLine(), "--admin-listen '" + adminListen + "' and --listen '"
          + show(listen) + "' use the same port: the admin API needs a listener of its own (for example"
          + " --admin-listen 127.0.0.1:" + (address.getPort() == 7444 ? 7445 : 7444) + ")");
    }
    InetSocketAddress ops = opsAddress();
    if (ops != null && ops.getPort() != 0) {
      for (InetSocketAddress other : new InetSocketAddress[] {address, admin}) {
        if (other != null && other.getPort() == ops.getPort() && overlap(ops, other)) {
          throw new ParameterException(spec.commandLine(), "--ops-listen '" + opsListen + "' uses the port of "
              + (other == admin ? "--admin-listen '" + adminListen : "--listen '" + show(listen)) + "': the ops"
              + " listener needs a port of its own (for example --ops-listen 127.0.0.1:9464), or 'off'");
        }
      }
    }
    InetSocketAddress console = consoleAddress();
    if (console != null && console.getPort() != 0) {
      for (InetSocketAddress other : new InetSocketAddress[] {address, admin, ops}) {
        if (other != null && other.getPort() == console.getPort() && overlap(console, other)) {
          String name = other == admin ? "--admin-listen '" + adminListen : other == ops ? "--ops-listen '" + opsListen
              : "--listen '" + show(listen);
          throw new ParameterException(spec.commandLine(), "--console-listen '" + consoleListen + "' uses the port of "
              + name + "': the web console needs a port of its own (for example --console-listen 127.0.0.1:7480),"
              + " or 'off'");
        }
      }
    }
    if (plaintext && !plaintextOnNetwork) {
      for (InetSocketAddress a : new InetSocketAddress[] {address, admin, console}) {
        if (a != null && !isLoopback(a)) {
          String name = a == admin ? "--admin-listen '" + adminListen : a == console ? "--console-listen '"
              + consoleListen : "--listen '" + show(listen);
          throw new ParameterException(spec.commandLine(), "--plaintext on " + name + "' is refused: that address is"
              + " not loopback, and without TLS the admin key (sent with every admin command) and all delegate traffic would"
              + " cross the network in the clear. Drop --plaintext to use TLS, listen on 127.0.0.1 for local"
              + " development, or add --allow-plaintext-on-network if the network path is protected in"
              + " another way");
        }
      }
    }
    ManagerSettings settings = ManagerSettings.defaults()
        .withHeartbeat(new HeartbeatSettings(heartbeatInterval, 3, HeartbeatSettings.defaults().flushInterval()))
        .withHandshakeTimeout(handshakeTimeout)
        .withMinTokenLifetime(minTokenLifetime)
        .withLimits(limits())
        .withTransport(TransportLimits.defaults()
            .withMaxConnectionsPerAddress(positive("--max-connections-per-address", maxConnectionsPerAddress, "1000"))
            .withMaxConcurrentCallsPerConnection(positive("--max-calls-per-connection", maxCallsPerConnection, "100")));
    return new ManagerServer.Options(address, admin, dataDir, dbUrl, System.getenv("TETHER_DB_USER"), dbPassword(),
        plaintext, tlsCert, tlsKey, tlsNames, settings, ops, console);
  }

  /** A warning on standard error: the line as it is, or one JSON object with --log-format json. */
  private static void warn(String line) {
    LogOutput.printLine(ServeCommand.class.getName(), ch.qos.logback.classic.Level.WARN, line);
  }

  /** The warning {@code serve --plaintext} prints to standard error. */
  static String plaintextWarning() {
    return "WARNING: --plaintext: TLS is off. The admin key, sent with every admin command, and all delegate"
        + " traffic travel in the clear: anyone who can read the traffic can administer this manager."
        + " Use it for local development only.";
  }

  /** The admin listener's address, resolved; null for {@code off}. */
  private InetSocketAddress adminAddress() {
    if (adminListen.strip().equalsIgnoreCase("off")) {
      return null;
    }
    try {
      return resolved(HostPort.parse(adminListen));
    } catch (picocli.CommandLine.TypeConversionException e) {
      throw new ParameterException(spec.commandLine(), "--admin-listen: " + e.getMessage() + "; or 'off'");
    }
  }

  /** The web console's address, resolved; null for {@code off}. */
  private InetSocketAddress consoleAddress() {
    if (consoleListen.strip().equalsIgnoreCase("off")) {
      return null;
    }
    try {
      return resolved(HostPort.parse(consoleListen));
    } catch (picocli.CommandLine.TypeConversionException e) {
      throw new ParameterException(spec.commandLine(), "--console-listen: " + e.getMessage() + "; or 'off'");
    }
  }

  /** The ops listener's address, resolved; null for {@code off}. */
  private InetSocketAddress opsAddress() {
    if (opsListen.strip().equalsIgnoreCase("off")) {
      return null;
    }
    try {
      return resolved(HostPort.parse(opsListen));
    } catch (picocli.CommandLine.TypeConversionException e) {
      throw new ParameterException(spec.commandLine(), "--ops-listen: " + e.getMessage() + "; or 'off'");
    }
  }

  /** Whether two listeners on one port would collide: the same host, or either on every address. */
  private static boolean overlap(InetSocketAddress a, InetSocketAddress b) {
    if (a.getAddress() == null || b.getAddress() == null) {
      return a.getHostString().equals(b.getHostString());
    }
    return a.getAddress().isAnyLocalAddress() || b.getAddress().isAnyLocalAddress() || a.getAddress().equals(b.getAddress());
  }

  private static InetSocketAddress resolved(InetSocketAddress address) {
    return address.isUnresolved() ? new InetSocketAddress(address.getHostString(), address.getPort()) : address;
  }

  private static String show(InetSocketAddress address) {
    String host = address.getHostString();
    return (host.contains(":") ? "[" + host + "]" : host) + ":" + address.getPort();
  }

  /** The warning {@code serve --plaintext} adds when the admin listener is not on loopback. */
  static String adminPlaintextWarning(InetSocketAddress admin) {
    return "WARNING: the admin listener " + show(admin) + " is reachable from the network and --plaintext is"
        + " on: every admin credential sent to it can be read on the way. Keep --admin-listen on 127.0.0.1,"
        + " or use TLS.";
  }

  /** Whether the address only accepts connections from this host (0.0.0.0 and :: accept any). */
  private static boolean isLoopback(InetSocketAddress address) {
    return address.getAddress() != null && address.getAddress().isLoopbackAddress();
  }

  private HandshakeLimiter.Settings limits() {
    double[] address = bucket("--failed-handshakes-per-address", addressLimit);
    return HandshakeLimiter.Settings.defaults()
        .withMaxConcurrent(positive("--max-handshakes-in-progress", maxHandshakes, "512"))
        .withMaxConcurrentPerAddress(positive("--max-handshakes-per-address", maxHandshakesPerAddress, "64"))
        .withMaxConcurrentPerConnection(positive("--max-handshakes-per-connection", maxHandshakesPerConnection, "4"))
        .withFailuresPerAddress(address[0], address[1]);
  }

  private int positive(String flag, int value, String example) {
    if (value < 1) {
      throw new ParameterException(spec.commandLine(), flag + " " + value
          + " is not positive (expected a number such as " + example + ")");
    }
    return value;
  }

  private double[] bucket(String flag, String value) {
    String[] parts = value.split("/");
    try {
      double burst = Double.parseDouble(parts[0]);
      double rate = Double.parseDouble(parts[1]);
      if (parts.length == 2 && burst >= 1 && rate > 0) {
        return new double[] {burst, rate};
      }
    } catch (NumberFormatException | ArrayIndexOutOfBoundsException e) {
      // reported below
    }
    throw new ParameterException(spec.commandLine(), flag + " '" + value + "' is invalid (expected BURST/PER_SECOND"
        + " with a burst of at least 1 and a positive rate, for example 30/1)");
  }

  private static String dbPassword() throws IOException {
    String file = System.getenv("TETHER_DB_PASSWORD_FILE");
    if (file != null && !file.isBlank()) {
      return Files.readString(Path.of(file)).strip();
    }
    return System.getenv("TETHER_DB_PASSWORD");
  }
}
