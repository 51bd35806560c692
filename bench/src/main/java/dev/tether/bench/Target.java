package dev.tether.bench;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.HdrHistogram.Histogram;

/**
 * One server under test, {@code tether}, {@code baseline} or {@code protocol} (the protocol's
 * floor, {@link ProtocolFloor}), in its own process, with the
 * load-generator processes that hold its delegates (at most {@value #PER_WORKER} each, so that
 * no process nears the machine's limit on open files).
 */
final class Target implements AutoCloseable {

  static final int PER_WORKER = 12_000;
  private static final Duration ANSWER = Duration.ofMinutes(5);
  private static final List<String> SERVER_JVM = List.of("-Xmx4g", "-XX:+UseG1GC");
  private static final List<String> WORKER_JVM = List.of("-Xmx4g", "-XX:+UseG1GC");

  final String kind;
  /** Names this target's processes and its directory under the run's root: the kind, or e.g. replica-1. */
  final String name;
  private final List<String> serverOptions;
  final Path dir;
  private final boolean reconnect;
  private Child server;
  private int port;
  private int adminPort;
  private int opsPort;
  private int restarts;
  private final List<Child> workers = new ArrayList<>();
  private final List<Child> extras = new ArrayList<>();
  private final List<Integer> held = new ArrayList<>();
  long fdMax;
  private double everySeconds;

  private Target(String kind, String name, Path dir, boolean reconnect, List<String> serverOptions) {
    this.kind = kind;
    this.name = name;
    this.dir = dir;
    this.reconnect = reconnect;
    this.serverOptions = List.copyOf(serverOptions);
  }

  /** Starts the server on a free port; delegates come back by themselves after a restart if {@code reconnect}. */
  static Target start(String kind, Path root, boolean reconnect) throws Exception {
    return start(kind, kind, root, reconnect, List.of());
  }

  /**
   * Starts the server, in {@code root/name}, on a free port, with {@link BenchServer}'s
   * {@code serverOptions} (e.g. {@code --db-url URL}).
   */
  static Target start(String kind, String name, Path root, boolean reconnect, List<String> serverOptions)
      throws Exception {
    Target t = new Target(kind, name, Files.createDirectories(root.resolve(name)), reconnect, serverOptions);
    t.startServer(0);
    return t;
  }

  private void startServer(int onPort) throws Exception {
    int n = restarts++;
    Path log = dir.resolve("server-" + n + ".log");
    List<String> jvm = new ArrayList<>(SERVER_JVM);
    jvm.add("-Xlog:gc:file=" + dir.resolve("gc-" + n + ".log"));
    // e.g. BENCH_SERVER_OPTS=-XX:StartFlightRecording=filename=server.jfr to profile the servers
    String extra = System.getenv("BENCH_SERVER_OPTS");
    if (extra != null && !extra.isBlank()) {
      for (String option : extra.strip().split("\\s+")) {
        jvm.add(option.replace("{dir}", dir.toString()));
      }
    }
    List<String> args = new ArrayList<>(List.of(kind, dir.toString(), String.valueOf(onPort)));
    args.addAll(serverOptions);
    server = Child.start(name + "-server", log, jvm, BenchServer.class, args);
    Map<String, String> ready = server.await(Duration.ofMinutes(2));
    port = Integer.parseInt(ready.get("port"));
    adminPort = Integer.parseInt(ready.get("admin_port"));
    opsPort = Integer.parseInt(ready.get("ops_port"));
    fdMax = Long.parseLong(ready.get("fd_max"));
  }

  /** The load generators' JVM options, plus BENCH_WORKER_OPTS (e.g. -Dtether.bench.trace=true). */
  private static List<String> workerJvm() {
    List<String> jvm = new ArrayList<>(WORKER_JVM);
    String extra = System.getenv("BENCH_WORKER_OPTS");
    if (extra != null && !extra.isBlank()) {
      jvm.addAll(List.of(extra.strip().split("\\s+")));
    }
    return jvm;
  }

  /** Stops the server the way an operator does (graceful stop), then starts it again on the same port. */
  Duration restart() throws Exception {
    server.call("stop", Duration.ofMinutes(1));
    server.awaitExit(Duration.ofMinutes(1));
    long started = System.nanoTime();
    startServer(port);
    return Duration.ofNanos(System.nanoTime() - started);
  }

  /** The server's delegate port. */
  int port() {
    return port;
  }

  /** The manager's admin listener (0 for the baseline, which has none). */
  int adminPort() {
    return adminPort;
  }

  int held() {
    return held.stream().mapToInt(Integer::intValue).sum();
  }

  /** Opens delegates until {@code total} are held; returns the number that failed to open. */
  int openTo(int total) throws Exception {
    List<Integer> asked = new ArrayList<>();
    for (int w = 0; held() + asked.stream().mapToInt(Integer::intValue).sum() < total; w++) {
      if (w == workers.size()) {
        workers.add(Child.start(name + "-worker-" + w, dir.resolve("worker-" + w + ".log"), workerJvm(),
            LoadWorker.class, reconnect
                ? List.of(kind, String.valueOf(port), dir.toString(), String.valueOf(w), "reconnect")
                : List.of(kind, String.valueOf(port), dir.toString(), String.valueOf(w))));
        workers.get(w).await(Duration.ofMinutes(1));
        if (everySeconds > 0) {
          workers.get(w).call("every " + everySeconds, ANSWER);
        }
        held.add(0);
      }
      int room = PER_WORKER - held.get(w);
      int want = Math.min(room, total - held() - asked.stream().mapToInt(Integer::intValue).sum());
      asked.add(want);
      if (want > 0) {
        workers.get(w).send("open " + want);
      }
    }
    int failed = 0;
    for (int w = 0; w < asked.size(); w++) {
      if (asked.get(w) > 0) {
        Map<String, String> answer = workers.get(w).await(ANSWER);
        held.set(w, Integer.parseInt(answer.get("held")));
        failed += Integer.parseInt(answer.get("failed"));
      }
    }
    return failed;
  }

  /** Sets the aggregate heartbeat rate, shared among the workers by the delegates each holds. */
  void rate(double perSecond) throws Exception {
    everySeconds = 0;
    int total = held();
    for (int w = 0; w < workers.size(); w++) {
      workers.get(w).call("rate " + (total == 0 ? 0 : perSecond * held.get(w) / total), ANSWER);
    }
  }

  /** Every delegate, those opening included, heartbeats once per {@code seconds}. */
  void every(double seconds) throws Exception {
    for (Child w : workers) {
      w.call("every " + seconds, ANSWER);
    }
    everySeconds = seconds;
  }

  /** What the delegates saw since the last call. */
  record Window(long sent, long acked, long dropped, long connected, Histogram roundTripsMicros) {
    double p99Ms() {
      return roundTripsMicros.getTotalCount() == 0 ? 0 : roundTripsMicros.getValueAtPercentile(99) / 1000.0;
    }

    double p50Ms() {
      return roundTripsMicros.getTotalCount() == 0 ? 0 : roundTripsMicros.getValueAtPercentile(50) / 1000.0;
    }
  }

  Window stats() throws Exception {
    long sent = 0;
    long acked = 0;
    long dropped = 0;
    long connected = 0;
    Histogram all = new Histogram(3);
    for (Child w : workers) {
      Map<String, String> a = w.call("stats", ANSWER);
      sent += Long.parseLong(a.get("sent"));
      acked += Long.parseLong(a.get("acked"));
      dropped += Long.parseLong(a.get("dropped"));
      connected += Long.parseLong(a.get("connected"));
      all.add(Histograms.decode(a.get("histogram")));
    }
    return new Window(sent, acked, dropped, connected, all);
  }

  long connected() throws Exception {
    long n = 0;
    for (Child w : workers) {
      n += Long.parseLong(w.call("connected", ANSWER).get("connected"));
    }
    return n;
  }

  /** Wall-clock times (ms) of the registrations since the last call, from every worker. */
  List<Long> arrivals() throws Exception {
    List<Long> times = new ArrayList<>();
    for (Child w : workers) {
      String at = w.call("arrivals", ANSWER).get("at");
      if (at != null && !at.isEmpty()) {
        for (String t : at.split(",")) {
          times.add(Long.parseLong(t));
        }
      }
    }
    return times;
  }

  /**
   * A {@link Revoker} process that revokes through this (tether) server's admin API and holds its
   * streams on {@code on} (this server, or this one and the other replicas); closed with the target.
   */
  Child startRevoker(List<Target> on) throws Exception {
    List<String> args = new ArrayList<>(List.of(String.valueOf(adminPort), dir.toString()));
    for (Target t : on) {
      args.add(t.port + "=" + t.dir);
    }
    return startExtra(name + "-revoker", "revoker.log", Revoker.class, args);
  }

  /** A {@link HandshakeWorker} process opening new delegates on this server from {@code threads} threads. */
  Child startHandshakeWorker(int threads) throws Exception {
    return startExtra(name + "-handshakes", "handshakes.log", HandshakeWorker.class,
        List.of(kind, String.valueOf(port), dir.toString(), String.valueOf(threads)));
  }

  /** A {@link RefusalTimingWorker} process timing Begin to Challenge on this (tether) server. */
  Child startRefusalTimingWorker() throws Exception {
    return startExtra(name + "-refusal-timing", "refusal-timing.log", RefusalTimingWorker.class,
        List.of(String.valueOf(port), dir.toString()));
  }

  private Child startExtra(String childName, String logName, Class<?> mainClass, List<String> args) throws Exception {
    Child child = Child.start(childName, dir.resolve(logName), workerJvm(), mainClass, args);
    extras.add(child);
    child.await(Duration.ofMinutes(1));
    return child;
  }

  /** The manager's ops listener (/metrics); 0 for the baseline, which has none. */
  int opsPort() {
    return opsPort;
  }

  /** The log of the server process now running. */
  Path serverLog() {
    return dir.resolve("server-" + (restarts - 1) + ".log");
  }

  /** Failed attempts to come back since the last call, by cause, from every worker. */
  Map<String, Long> failures() throws Exception {
    Map<String, Long> all = new java.util.TreeMap<>();
    for (Child w : workers) {
      String text = w.call("failures", ANSWER).get("failures");
      for (String entry : text == null ? new String[0] : text.split(";")) {
        int colon = entry.lastIndexOf(':');
        if (colon > 0) {
          all.merge(entry.substring(0, colon), Long.parseLong(entry.substring(colon + 1)), Long::sum);
        }
      }
    }
    return all;
  }

  /** The server's heap in use after a full collection. */
  long heapAfterGc() throws Exception {
    return Long.parseLong(server.call("heap", ANSWER).get("heap"));
  }

  long serverRss() {
    return server.rssBytes();
  }

  Duration serverCpu() {
    return server.cpu();
  }

  long clientRss() {
    return workers.stream().mapToLong(Child::rssBytes).sum();
  }

  @Override
  public void close() {
    for (Child c : extras) {
      c.close();
    }
    for (Child w : workers) {
      try {
        w.call("close", Duration.ofMinutes(1));
      } catch (RuntimeException e) {
        // already gone
      } catch (InterruptedException e) {
        // asked to hurry: the processes are ended below all the same
        Thread.currentThread().interrupt();
      }
      w.close();
    }
    server.close();
  }
}
