package dev.tether.bench;

import com.sun.management.HotSpotDiagnosticMXBean;
import com.sun.management.UnixOperatingSystemMXBean;
import dev.tether.common.files.PrivateFiles;
import dev.tether.common.token.DelegateToken;
import dev.tether.manager.auth.HandshakeLimiter;
import dev.tether.manager.server.ManagerServer;
import dev.tether.manager.server.ManagerSettings;
import dev.tether.manager.tls.TlsMaterial;
import dev.tether.manager.token.CreatedAccount;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.lang.management.ManagementFactory;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import javax.management.ObjectName;

/**
 * The server side of a process-level scenario, in a JVM of its own so that its heap, RSS and CPU
 * are its own: {@code tether} runs the manager exactly as {@code serve} does (embedded H2, TLS,
 * default limits), {@code baseline} the bare grpc-java service, {@code protocol} the protocol's floor
 * ({@link ProtocolFloor}: Tether's wire on the baseline, nothing stored). Driven over stdin by
 * {@link Child}: {@code heap} (collects garbage, answers the heap in use) and {@code stop}.
 *
 * <p>For {@code tether}, the first start creates an account whose default token the load
 * generators read from {@code bench.token} (owner-only) in the data directory; for
 * {@code protocol}, the token the floor accepts, likewise. Options:
 * {@code --db-url URL} runs the manager on that PostgreSQL database (user and password
 * {@code postgres}) instead of H2, as one replica among others; {@code --no-account} creates no
 * account (another replica on the same database has); {@code --open-handshake-limits} opens the
 * handshake limiter wide, for scenarios where a flood of handshakes is the point;
 * {@code --open-failure-limits} lifts only the limit on failed handshakes per address, for a
 * scenario that fails handshakes on purpose from one address (the other limits as by default).
 */
public final class BenchServer {

  static final String ACCOUNT_FILE = "bench.account";
  static final String TOKEN_FILE = "bench.token";

  /** The id of the account a server with {@code --account} wrote into its data directory. */
  static String account(Path dir) throws IOException {
    return Files.readString(dir.resolve(ACCOUNT_FILE)).strip();
  }

  /** The token a server with {@code --account} wrote into its data directory (0600). */
  static DelegateToken token(Path dir) throws IOException {
    return DelegateToken.parse(dir.resolve(TOKEN_FILE).toString(), Files.readString(dir.resolve(TOKEN_FILE)).strip());
  }

  private static final String USAGE = "usage: BenchServer tether|baseline|protocol DATA_DIR PORT [--db-url URL] [--no-account]"
      + " [--open-handshake-limits] [--open-failure-limits]";

  private BenchServer() {}

  public static void main(String[] args) throws Exception {
    if (args.length < 3 || !List.of("tether", "baseline", "protocol").contains(args[0])) {
      System.err.println(USAGE);
      System.exit(2);
    }
    Path dir = Path.of(args[1]);
    int port = Integer.parseInt(args[2]);
    String dbUrl = null;
    boolean account = true;
    ManagerSettings settings = ManagerSettings.defaults();
    for (int i = 3; i < args.length; i++) {
      switch (args[i]) {
        case "--db-url" -> {
          if (i + 1 == args.length) {
            System.err.println("BenchServer: --db-url takes a JDBC URL; " + USAGE);
            System.exit(2);
          }
          dbUrl = args[++i];
        }
        case "--no-account" -> account = false;
        case "--open-handshake-limits" -> settings = settings.withLimits(
            HandshakeLimiter.Settings.defaults().withMaxConcurrent(100_000).withMaxConcurrentPerAddress(100_000)
                .withMaxConcurrentPerConnection(100_000).withFailuresPerAddress(1e9, 1e9));
        case "--open-failure-limits" -> settings = settings.withLimits(
            HandshakeLimiter.Settings.defaults().withFailuresPerAddress(1e9, 1e9));
        default -> {
          System.err.println("BenchServer: unknown option '" + args[i] + "'; " + USAGE);
          System.exit(2);
        }
      }
    }
    AutoCloseable server;
    int boundPort;
    int adminPort = 0;
    int opsPort = 0;
    if (args[0].equals("tether")) {
      ManagerServer manager = ManagerServer.start(new ManagerServer.Options(new InetSocketAddress("127.0.0.1", port),
          new InetSocketAddress("127.0.0.1", 0), dir, dbUrl, dbUrl == null ? null : "postgres",
          dbUrl == null ? null : "postgres", false, null, null, List.of(), settings,
          new InetSocketAddress("127.0.0.1", 0)));
      if (account && !Files.exists(dir.resolve(ACCOUNT_FILE))) {
        CreatedAccount created = manager.manager().tokens().createAccount("bench", "bench");
        PrivateFiles.createFile(dir.resolve(TOKEN_FILE),
            created.defaultToken().value().reveal().getBytes(StandardCharsets.UTF_8));
        Files.writeString(dir.resolve(ACCOUNT_FILE), created.account().id());
      }
      server = manager;
      boundPort = manager.listenAddress().getPort();
      adminPort = manager.adminAddress().getPort();
      opsPort = manager.opsAddress().getPort();
    } else if (args[0].equals("protocol")) {
      TlsMaterial tls = TlsMaterial.loadOrGenerate(dir.resolve("tls"), List.of());
      if (!Files.exists(dir.resolve(ACCOUNT_FILE))) {
        PrivateFiles.createFile(dir.resolve(TOKEN_FILE),
            DelegateToken.generate().reveal().getBytes(StandardCharsets.UTF_8));
        Files.writeString(dir.resolve(ACCOUNT_FILE), ProtocolFloor.ACCOUNT);
      }
      String accountId = account(dir);
      ProtocolFloor floor = new ProtocolFloor(tls, port, accountId,
          token(dir).credential(accountId));
      server = floor;
      boundPort = floor.port();
    } else {
      TlsMaterial tls = TlsMaterial.loadOrGenerate(dir.resolve("tls"), List.of());
      Baseline baseline = new Baseline(tls.certificate(), tls.privateKey(), port);
      server = baseline;
      boundPort = baseline.port();
    }
    UnixOperatingSystemMXBean os = (UnixOperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
    reply("ready port=" + boundPort + " admin_port=" + adminPort + " ops_port=" + opsPort + " fd_max=" + os.getMaxFileDescriptorCount()
        + " fds=" + os.getOpenFileDescriptorCount());
    BufferedReader commands = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    String line;
    while ((line = commands.readLine()) != null) {
      switch (line.strip()) {
        case "heap" -> {
          // two collections: the first may leave finalizable or soft garbage behind
          System.gc();
          System.gc();
          long used = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
          writeHeapRecords(dir);
          reply("heap=" + used + " fds=" + os.getOpenFileDescriptorCount());
        }
        case "stop" -> {
          server.close();
          reply("stopped");
          System.exit(0);
        }
        default -> reply("error unknown command '" + line + "'");
      }
    }
    server.close();
  }

  /**
   * With {@code -Dtether.bench.histograms=true} (e.g. in BENCH_SERVER_OPTS), writes the heap's
   * class histogram, as {@code jcmd GC.class_histogram} prints it, to {@code histogram-N.txt} in the
   * server's directory at each heap measure: which objects a connection costs. With
   * {@code -Dtether.bench.heapdumps=true}, a heap dump of the live objects, {@code heap-N.hprof}.
   */
  private static void writeHeapRecords(Path dir) throws Exception {
    if (Boolean.getBoolean("tether.bench.heapdumps")) {
      ManagementFactory.getPlatformMXBean(HotSpotDiagnosticMXBean.class)
          .dumpHeap(nextFree(dir, "heap-", ".hprof").toString(), true);
    }
    if (Boolean.getBoolean("tether.bench.histograms")) {
      String histogram = (String) ManagementFactory.getPlatformMBeanServer().invoke(
          new ObjectName("com.sun.management:type=DiagnosticCommand"), "gcClassHistogram",
          new Object[] {new String[0]}, new String[] {String[].class.getName()});
      Files.writeString(nextFree(dir, "histogram-", ".txt"), histogram);
    }
  }

  /** {@code dir/prefixNsuffix} for the first N from 0 that names no file yet. */
  private static Path nextFree(Path dir, String prefix, String suffix) {
    for (int n = 0; ; n++) {
      Path file = dir.resolve(prefix + n + suffix);
      if (!Files.exists(file)) {
        return file;
      }
    }
  }

  /** One command from the driver, split into words; returns the answer. */
  interface Commands {
    String handle(String[] words) throws Exception;
  }

  /** Says ready, then answers the driver's commands, one line each, until stdin ends. */
  static void answer(Commands commands) throws java.io.IOException {
    reply("ready");
    BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    String line;
    while ((line = in.readLine()) != null) {
      String[] words = line.strip().split(" ");
      try {
        reply(commands.handle(words));
      } catch (Exception e) {
        reply("error " + words[0] + ": " + e);
      }
    }
  }

  /** Answers on stdout, marked so the driver can tell answers from log lines. */
  static void reply(String text) {
    System.out.println(Child.MARK + (text.startsWith("error ") ? text : "ok " + text));
    System.out.flush();
  }
}
