package dev.tether.manager.cli;

import dev.tether.manager.auth.HandshakeLimiter;
import dev.tether.manager.heartbeat.HeartbeatSettings;
import dev.tether.manager.server.ManagerServer;
import dev.tether.manager.server.ManagerSettings;
import dev.tether.manager.server.TransportLimits;
import java.io.IOException;
import java.net.InetSocketAddress;
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
    description = "Run the manager: delegate handshake and streams, admin API, health and reflection.")
final class ServeCommand implements Callable<Integer> {

  @Spec CommandSpec spec;

  @Option(names = "--listen", paramLabel = "HOST:PORT", defaultValue = "0.0.0.0:7443",
      converter = HostPort.class, description = "Address to listen on (default: ${DEFAULT-VALUE}).")
  InetSocketAddress listen;

  @Option(names = "--data-dir", paramLabel = "DIR", defaultValue = "./tether-data",
      description = "Where the database, master key, admin key and TLS files live (default: ${DEFAULT-VALUE}).")
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

  /** Accepted so that existing service files keep working; a correct proof is never refused per token now. */
  @Option(names = "--failed-handshakes-per-token", paramLabel = "BURST/PER_SECOND", hidden = true)
  String tokenLimit;

  @Override
  public Integer call() throws Exception {
    if (tokenLimit != null) {
      System.err.println("WARNING: --failed-handshakes-per-token has no effect any more and will be removed: a"
          + " correct proof is never refused because of other clients' failures (docs/security.md, limits)");
    }
    ManagerServer server = ManagerServer.start(options());
    server.banner().forEach(System.out::println);
    if (plaintext) {
      System.err.println(plaintextWarning());
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
    InetSocketAddress address = new InetSocketAddress(listen.getHostString(), listen.getPort());
    if (plaintext && !plaintextOnNetwork && !isLoopback(address)) {
      throw new ParameterException(spec.commandLine(), "--plaintext on --listen '" + (listen.getHostString().contains(":")
          ? "[" + listen.getHostString() + "]" : listen.getHostString()) + ":" + listen.getPort() + "' is refused: that address is not loopback, and without TLS the admin key (sent"
          + " with every admin command) and all delegate traffic would cross the network in the clear. Drop"
          + " --plaintext to use TLS, listen on 127.0.0.1 for local development, or add"
          + " --allow-plaintext-on-network if the network path is protected in another way");
    }
    ManagerSettings settings = ManagerSettings.defaults()
        .withHeartbeat(new HeartbeatSettings(heartbeatInterval, 3, HeartbeatSettings.defaults().flushInterval()))
        .withHandshakeTimeout(handshakeTimeout)
        .withLimits(limits())
        .withTransport(TransportLimits.defaults()
            .withMaxConnectionsPerAddress(positive("--max-connections-per-address", maxConnectionsPerAddress, "1000"))
            .withMaxConcurrentCallsPerConnection(positive("--max-calls-per-connection", maxCallsPerConnection, "100")));
    return new ManagerServer.Options(address, dataDir, dbUrl, System.getenv("TETHER_DB_USER"), dbPassword(),
        plaintext, tlsCert, tlsKey, tlsNames, settings);
  }

  /** The warning {@code serve --plaintext} prints to standard error. */
  static String plaintextWarning() {
    return "WARNING: --plaintext: TLS is off. The admin key, sent with every admin command, and all delegate"
        + " traffic travel in the clear: anyone who can read the traffic can administer this manager."
        + " Use it for local development only.";
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
