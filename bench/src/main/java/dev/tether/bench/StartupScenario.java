package dev.tether.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tether.common.files.PrivateFiles;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * How long the shipped programs take to start, and what an idle delegate costs: the manager
 * through {@code scripts/tether-manager serve} to listening, on an empty data directory and on an
 * existing one; the delegate through {@code scripts/tether-delegate} to connected to a running
 * manager, then its resident memory after it has been connected and idle; the jars' sizes; and
 * {@code java -version} beside them. Every program runs through its launcher as an OS process of
 * its own, so whatever JVM flags and class-data-sharing archive a launcher uses are counted; the
 * launchers run copies of the jars in a directory of their own, so nothing a first run writes is
 * left beside the build's jars.
 */
final class StartupScenario {

  private static final Path MANAGER_LAUNCHER = Path.of("scripts/tether-manager");
  private static final Path DELEGATE_LAUNCHER = Path.of("scripts/tether-delegate");
  private static final Path MANAGER_JAR = Path.of("manager/target/tether-manager.jar");
  private static final Path DELEGATE_JAR = Path.of("delegate/target/tether-delegate.jar");
  private static final String BANNER = "tether-manager listening on ";
  private static final Pattern CONNECTED = Pattern.compile("connected to .* as delegate .*heartbeat every ([0-9]+) ms");
  private static final Duration START_TIMEOUT = Duration.ofMinutes(2);
  private static final Duration STOP_TIMEOUT = Duration.ofMinutes(1);
  /** How often the delegate port is tried before the banner is seen; once it is, at once. */
  private static final Duration PORT_POLL = Duration.ofMillis(10);
  private static final Duration IDLE = Duration.ofSeconds(10);
  private static final double MB = 1024.0 * 1024.0;

  private StartupScenario() {}

  /** The ports one manager listens on, picked free on 127.0.0.1 (never the default ones). */
  private record Ports(int delegates, int admin, int ops) {
    static Ports free() throws IOException {
      try (ServerSocket a = bound(); ServerSocket b = bound(); ServerSocket c = bound()) {
        return new Ports(a.getLocalPort(), b.getLocalPort(), c.getLocalPort());
      }
    }

    private static ServerSocket bound() throws IOException {
      ServerSocket socket = new ServerSocket();
      socket.bind(new InetSocketAddress("127.0.0.1", 0));
      return socket;
    }
  }

  /** A manager started and ready: its process, launcher to ready, and its CPU time by then. */
  private record Started(Launched process, long nanos, long cpuNanos) {}

  static void run(boolean quick) throws Exception {
    int runs = quick ? 3 : 10;
    for (Path needed : List.of(MANAGER_LAUNCHER, DELEGATE_LAUNCHER, MANAGER_JAR, DELEGATE_JAR)) {
      if (!Files.exists(needed)) {
        throw new IllegalStateException("the startup scenario runs from the repository's root and needs " + needed
            + " (build with: mvn -B -ntp -DskipTests package)");
      }
    }
    Path root = Files.createTempDirectory("tether-bench-startup");
    Path logs = Files.createDirectories(root.resolve("logs"));
    Path jars = Files.createDirectories(root.resolve("jars"));
    Map<String, String> env = Map.of(
        "TETHER_MANAGER_JAR", Files.copy(MANAGER_JAR, jars.resolve("tether-manager.jar"),
            StandardCopyOption.COPY_ATTRIBUTES).toString(),
        "TETHER_DELEGATE_JAR", Files.copy(DELEGATE_JAR, jars.resolve("tether-delegate.jar"),
            StandardCopyOption.COPY_ATTRIBUTES).toString());
    System.out.println("data and logs: " + root);
    String java = ProcessHandle.current().info().command().orElse("java");
    String loadBefore = loadAverage();

    long[] javaVersion = new long[runs];
    for (int i = 0; i < runs; i++) {
      javaVersion[i] = javaVersion();
    }

    // the launcher's first run from a fresh copy of the jar: anything a launcher writes on first use
    // (an archive) is written here, so that the runs below measure the usual case
    Started firstLaunch = startManager("manager-first-launch", root.resolve("manager-first-launch"), Ports.free(),
        env, logs);
    stopManager(firstLaunch.process());

    long[] firstStart = new long[runs];
    long[] firstStartCpu = new long[runs];
    long[] restart = new long[runs];
    long[] restartCpu = new long[runs];
    long[] stop = new long[runs];
    for (int i = 0; i < runs; i++) {
      Path dataDir = root.resolve("manager-" + i);
      Ports ports = Ports.free();
      Started first = startManager("manager-" + i + "-first", dataDir, ports, env, logs);
      firstStart[i] = first.nanos();
      firstStartCpu[i] = first.cpuNanos();
      stopManager(first.process());
      Started again = startManager("manager-" + i + "-restart", dataDir, ports, env, logs);
      restart[i] = again.nanos();
      restartCpu[i] = again.cpuNanos();
      stop[i] = stopManager(again.process());
    }

    long[] delegateStart = new long[runs];
    long[] delegateCpu = new long[runs];
    long[] rss = new long[runs];
    long[] rssAnon = new long[runs];
    long[] rssFile = new long[runs];
    long heartbeatMillis = 0;
    DelegateRun delegateFirst;
    Path managerDir = root.resolve("manager-for-delegates");
    Ports ports = Ports.free();
    Started manager = startManager("manager-for-delegates", managerDir, ports, env, logs);
    try {
      Map<String, String> delegateEnv = account(managerDir, ports, env, root, logs);
      // as for the manager: the launcher's first run from the fresh jar copy writes the delegate's
      // archive when it stops, so that the runs below measure the usual case
      delegateFirst = startDelegate("bench-startup-first", delegateEnv, logs, false);
      for (int i = 0; i < runs; i++) {
        DelegateRun run = startDelegate("bench-startup-" + i, delegateEnv, logs, true);
        delegateStart[i] = run.nanos();
        delegateCpu[i] = run.cpuNanos();
        heartbeatMillis = run.heartbeatMillis();
        rss[i] = run.memory().getOrDefault("VmRSS", -1L);
        rssAnon[i] = run.memory().getOrDefault("RssAnon", -1L);
        rssFile[i] = run.memory().getOrDefault("RssFile", -1L);
      }
    } finally {
      stopManager(manager.process());
    }
    String loadAfter = loadAverage();
    long delegateJar = Files.size(DELEGATE_JAR);
    long managerJar = Files.size(MANAGER_JAR);

    int cores = Runtime.getRuntime().availableProcessors();
    System.out.printf(Locale.ROOT, "start-up through the launchers, %d runs each, %d cores, load average %s -> %s (%s)%n",
        runs, cores, loadBefore, loadAfter, java);
    System.out.printf(Locale.ROOT, "  manager, the launcher's first run from a fresh copy of the jar (empty data directory):"
        + " %.0f ms%n", firstLaunch.nanos() / 1e6);
    System.out.printf(Locale.ROOT, "  %-54s %9s %9s %9s %9s %12s%n", "", "median", "p90", "min", "max", "CPU median");
    Json json = new Json("startup", quick).put("runs", runs).put("cores", cores).put("load_before", loadBefore)
        .put("load_after", loadAfter).put("manager_first_launch_ms", firstLaunch.nanos() / 1e6);
    row(json, "manager_start_first", "manager start to listening, empty data directory", firstStart, firstStartCpu);
    row(json, "manager_start", "manager restart to listening, existing data directory", restart, restartCpu);
    row(json, "manager_stop", "manager stop, SIGTERM to exit", stop, null);
    System.out.printf(Locale.ROOT, "  delegate, the launcher's first run from a fresh copy of the jar: %.0f ms%n",
        delegateFirst.nanos() / 1e6);
    json.put("delegate_first_launch_ms", delegateFirst.nanos() / 1e6);
    row(json, "delegate_start", "delegate start to connected", delegateStart, delegateCpu);
    row(json, "java_version", "java -version", javaVersion, null);
    Samples rssMb = new Samples(rss);
    System.out.printf(Locale.ROOT, "delegate resident memory after %d s connected and idle (heartbeat every %d ms),"
        + " median of %d: VmRSS %.1f MB (max %.1f), RssAnon %.1f MB, RssFile %.1f MB%n", IDLE.toSeconds(),
        heartbeatMillis, runs, rssMb.median() / MB, rssMb.max() / MB, new Samples(rssAnon).median() / MB,
        new Samples(rssFile).median() / MB);
    System.out.printf(Locale.ROOT, "jars: delegate %d bytes (%.1f MB), manager %d bytes (%.1f MB)%n", delegateJar,
        delegateJar / MB, managerJar, managerJar / MB);
    json.put("delegate_idle_seconds", IDLE.toSeconds()).put("delegate_heartbeat_interval_ms", heartbeatMillis)
        .put("delegate_rss_mb", rssMb.median() / MB).put("delegate_rss_mb_max", rssMb.max() / MB)
        .put("delegate_rss_anon_mb", new Samples(rssAnon).median() / MB)
        .put("delegate_rss_file_mb", new Samples(rssFile).median() / MB)
        .put("delegate_jar_bytes", delegateJar).put("delegate_jar_mb", delegateJar / MB)
        .put("manager_jar_bytes", managerJar).put("manager_jar_mb", managerJar / MB);
    System.out.println(json);
    deleteTree(root);
  }

  /** One delegate's start: to connected, its CPU by then, its heartbeat interval, and its memory when idle. */
  private record DelegateRun(long nanos, long cpuNanos, long heartbeatMillis, Map<String, Long> memory) {}

  /**
   * Starts a delegate through its launcher, waits until it has connected (and, with {@code idle},
   * 10 s more, then reads its memory), and stops it with SIGTERM, which it must end with 0.
   */
  private static DelegateRun startDelegate(String name, Map<String, String> delegateEnv, Path logs, boolean idle)
      throws Exception {
    Map<String, String> runEnv = new HashMap<>(delegateEnv);
    runEnv.put("DELEGATE_NAME", name);
    long started = System.nanoTime();
    Launched delegate = Launched.start(name, List.of(DELEGATE_LAUNCHER.toString()), runEnv, logs,
        Launched.Stream.STDERR, line -> CONNECTED.matcher(line).find());
    try {
      Launched.Line connected = delegate.awaitLine(START_TIMEOUT);
      long nanos = connected.nanoTime() - started;
      long cpu = cpuNanos(delegate);
      Matcher m = CONNECTED.matcher(connected.text());
      long heartbeatMillis = m.find() ? Long.parseLong(m.group(1)) : 0;
      Map<String, Long> memory = Map.of();
      if (idle) {
        // connected and idle, heartbeats flowing: the footprint a fleet of idle delegates costs each host
        Thread.sleep(IDLE.toMillis());
        if (!delegate.isAlive()) {
          throw new IllegalStateException("delegate " + name + " ended while idle; see " + delegate.stderrLog());
        }
        memory = delegate.memory();
      }
      int exit = delegate.stop(STOP_TIMEOUT);
      if (exit != 0 && exit != 143) {
        throw new IllegalStateException("delegate " + name + " exited with " + exit + " after SIGTERM (expected 0);"
            + " see " + delegate.stderrLog());
      }
      return new DelegateRun(nanos, cpu, heartbeatMillis, memory);
    } finally {
      delegate.close();
    }
  }

  /** One line of the table, and its figures as {@code KEY_ms_p50}, {@code _p90}, {@code _min}, {@code _max}. */
  private static void row(Json json, String key, String label, long[] nanos, long[] cpuNanos) {
    Samples s = new Samples(nanos);
    String cpu = "";
    json.put(key + "_ms_p50", s.median() / 1e6).put(key + "_ms_p90", s.p90() / 1e6).put(key + "_ms_min", s.min() / 1e6)
        .put(key + "_ms_max", s.max() / 1e6);
    if (cpuNanos != null) {
      double cpuMedian = new Samples(cpuNanos).median();
      cpu = String.format(Locale.ROOT, "%9.0f ms", cpuMedian / 1e6);
      json.put(key + "_cpu_ms_p50", cpuMedian / 1e6);
    }
    System.out.printf(Locale.ROOT, "  %-54s %6.0f ms %6.0f ms %6.0f ms %6.0f ms %12s%n", label, s.median() / 1e6,
        s.p90() / 1e6, s.min() / 1e6, s.max() / 1e6, cpu);
  }

  /**
   * Starts {@code scripts/tether-manager serve} on {@code ports} and waits until it is ready: its
   * delegate port accepts a TCP connection and it has printed its banner's first line. The time
   * runs from just before the process is started to the later of the two.
   */
  private static Started startManager(String name, Path dataDir, Ports ports, Map<String, String> env, Path logs)
      throws Exception {
    List<String> command = List.of(MANAGER_LAUNCHER.toString(), "serve",
        "--listen", "127.0.0.1:" + ports.delegates(), "--admin-listen", "127.0.0.1:" + ports.admin(),
        "--ops-listen", "127.0.0.1:" + ports.ops(), "--console-listen", "off", "--data-dir", dataDir.toString());
    long started = System.nanoTime();
    Launched manager = Launched.start(name, command, env, logs, Launched.Stream.STDOUT,
        line -> line.startsWith(BANNER));
    try {
      long deadline = started + START_TIMEOUT.toNanos();
      long accepted = 0;
      while (accepted == 0) {
        if (accepts(ports.delegates())) {
          accepted = System.nanoTime();
        } else if (System.nanoTime() > deadline || !manager.isAlive()) {
          throw new IllegalStateException(name + " did not accept connections on 127.0.0.1:" + ports.delegates()
              + (manager.isAlive() ? " within " + START_TIMEOUT : " before it ended") + "; see " + manager.stderrLog()
              + " and " + manager.stdoutLog());
        } else {
          // waits for the banner, or for the next try of the port
          manager.hasLine(PORT_POLL);
        }
      }
      Launched.Line banner = manager.awaitLine(START_TIMEOUT);
      if (!banner.text().contains("127.0.0.1:" + ports.delegates())) {
        throw new IllegalStateException(name + " says '" + banner.text() + "', expected it to listen on 127.0.0.1:"
            + ports.delegates());
      }
      long ready = Math.max(accepted, banner.nanoTime());
      return new Started(manager, ready - started, cpuNanos(manager));
    } catch (Exception | Error e) {
      manager.close();
      throw e;
    }
  }

  private static boolean accepts(int port) {
    try (Socket socket = new Socket()) {
      socket.connect(new InetSocketAddress("127.0.0.1", port), 1000);
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  /** Stops a manager with SIGTERM and waits for it; returns the time from the signal to its exit. */
  private static long stopManager(Launched manager) throws InterruptedException {
    try {
      long started = System.nanoTime();
      int exit = manager.stop(STOP_TIMEOUT);
      long stopped = System.nanoTime() - started;
      if (exit != 0 && exit != 143) {
        throw new IllegalStateException("the manager exited with " + exit + " after SIGTERM (expected 0); see "
            + manager.stderrLog());
      }
      return stopped;
    } finally {
      manager.close();
    }
  }

  /**
   * Creates an account with the CLI and writes its default token's value into a 0600 file;
   * returns the delegate's environment for it (the value is never printed).
   */
  private static Map<String, String> account(Path dataDir, Ports ports, Map<String, String> env, Path root, Path logs)
      throws Exception {
    ProcessBuilder builder = Launched.environment(new ProcessBuilder(MANAGER_LAUNCHER.toString(), "account", "create",
        "bench-startup", "--json", "--manager", "127.0.0.1:" + ports.admin(), "--data-dir", dataDir.toString())
        .redirectError(logs.resolve("account-create.err").toFile()), env);
    Process process = builder.start();
    process.getOutputStream().close();
    byte[] output = process.getInputStream().readAllBytes();
    if (!process.waitFor(2, TimeUnit.MINUTES) || process.exitValue() != 0) {
      process.destroyForcibly();
      // the output may hold the token's value: only the error stream is shown
      throw new IllegalStateException("account create failed; see " + logs.resolve("account-create.err"));
    }
    JsonNode created = new ObjectMapper().readTree(output);
    String accountId = created.path("account").path("id").asText("");
    String value = created.path("value").asText("");
    if (accountId.isEmpty() || value.isEmpty()) {
      throw new IllegalStateException("account create answered without account.id or value (fields: "
          + names(created.fieldNames()) + ")");
    }
    Path tokenFile = root.resolve("delegate.token");
    PrivateFiles.createFile(tokenFile, value.getBytes(StandardCharsets.UTF_8));
    return Map.of("ACCOUNT_ID", accountId, "DELEGATE_TOKEN_FILE", tokenFile.toString(),
        "MANAGER_HOST_AND_PORT", "https://127.0.0.1:" + ports.delegates(),
        "TETHER_DELEGATE_JAR", env.get("TETHER_DELEGATE_JAR"));
  }

  private static List<String> names(Iterator<String> fields) {
    List<String> out = new ArrayList<>();
    fields.forEachRemaining(out::add);
    return out;
  }

  /** CPU time (user and system) the program's JVM has used so far. */
  private static long cpuNanos(Launched process) {
    return process.jvm().info().totalCpuDuration().map(Duration::toNanos).orElse(-1L);
  }

  /** Wall time of {@code java -version}, start to exit. */
  private static long javaVersion() throws IOException, InterruptedException {
    ProcessBuilder builder = Launched.environment(new ProcessBuilder("java", "-version"), Map.of())
        .redirectErrorStream(true);
    long started = System.nanoTime();
    Process process = builder.start();
    process.getOutputStream().close();
    process.getInputStream().readAllBytes();
    if (!process.waitFor(1, TimeUnit.MINUTES) || process.exitValue() != 0) {
      process.destroyForcibly();
      throw new IllegalStateException("java -version failed");
    }
    return System.nanoTime() - started;
  }

  private static String loadAverage() {
    try {
      String[] fields = Files.readString(Path.of("/proc/loadavg")).split(" ");
      return fields[0] + " " + fields[1] + " " + fields[2];
    } catch (IOException e) {
      return "unknown";
    }
  }

  private static void deleteTree(Path root) throws IOException {
    try (var paths = Files.walk(root)) {
      for (Path p : paths.sorted((a, b) -> b.getNameCount() - a.getNameCount()).toList()) {
        Files.deleteIfExists(p);
      }
    }
  }
}
