package dev.tether.bench;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.HdrHistogram.Histogram;

/**
 * Scenario {@code revocation}: N streams on one token (N = 1, 100, 10 000; quick: 1 and 100)
 * among background delegates heartbeating every 100 ms on another token; each N above 1 begins
 * with one unmeasured revoke of N streams ({@code revoke_nN_first_ms}). The manager runs as
 * {@code serve} does in a process of its own ({@link BenchServer}); the background delegates in a
 * {@link LoadWorker}; the doomed streams and the revoke call in a {@link Revoker}. Measured over
 * repeated trials: the time from the revoke call to the last stream's close seen by the client,
 * the revoke call itself, the heartbeats acknowledged after the call returned (must be 0), the
 * background heartbeat round trip during the fan-outs, and the manager's own timing of each
 * revoke's phases, from the growth of its {@code tether_revocation_duration_seconds} sums on
 * {@code /metrics} between one revoke and the next. Beside them, the floors a revoke's commit
 * cannot go below: H2's own durable commit of one row ({@link H2CommitProbe}) on the idle machine
 * before the servers start, and both it and the bare fsync ({@link MachineFloor}) again under the
 * background load, just before the trials; and the floor of the revoke call's round trip, a
 * health check of the manager from the revoker before each one-stream revoke.
 */
final class RevocationScenario {

  /** A revoke's phases, as the manager's /metrics gives them: one histogram sum per phase. */
  private static final Pattern PHASE_SUM = Pattern.compile(
      "^tether_revocation_duration_seconds_sum\\{phase=\"(fence|commit|close|total)\"} (\\S+)$", Pattern.MULTILINE);
  /**
   * The manager's whole RevokeToken call, from gRPC's server metrics: from the call's headers (before
   * the admin's authentication) to its answer. It is kept beside the phases as the pseudo-phase "call".
   */
  private static final Pattern CALL_SUM = Pattern.compile(
      "^grpc_server_processing_duration_seconds_sum\\{(?=[^}]*method=\"RevokeToken\")(?=[^}]*status_code=\"OK\")"
          + "[^}]*} (\\S+)$", Pattern.MULTILINE);
  /** How many RevokeToken calls gRPC's server metrics have timed (answered OK). */
  private static final Pattern CALL_COUNT = Pattern.compile(
      "^grpc_server_processing_duration_seconds_count\\{(?=[^}]*method=\"RevokeToken\")(?=[^}]*status_code=\"OK\")"
          + "[^}]*} (\\S+)$", Pattern.MULTILINE);
  static final List<String> PHASES = List.of("total", "fence", "commit", "close", "call");

  /** Unmeasured commits before each H2 probe's samples: the first ones pay for opening and compiling. */
  private static final int PROBE_WARMUP = 100;

  /** How long a command to the revoker may take: N = 10 000 opens 10 000 handshakes. */
  private static final Duration LONG = Duration.ofMinutes(5);

  private RevocationScenario() {}

  /** One revoke, as the client and the manager saw it. */
  private record Trial(int n, double lastCloseMs, double callMs) {}

  static void run(boolean quick) throws Exception {
    Map<Integer, Integer> plan = new LinkedHashMap<>();
    plan.put(1, quick ? 30 : 200);
    plan.put(100, quick ? 10 : 50);
    if (!quick) {
      plan.put(10_000, 5);
    }
    int background = quick ? 50 : 200;
    Path root = Files.createTempDirectory("tether-bench-revocation");
    System.out.println("data and logs: " + root);
    Json json = new Json("revocation", quick);
    // H2's own durable commit on the idle machine, before any server runs (beside the fsync of the
    // machine line): what the database adds to the disk's floor
    double[] h2Idle = H2CommitProbe.millis(root.resolve("h2-probe-idle"), PROBE_WARMUP, MachineFloor.FSYNCS);
    try (Target t = Target.start("tether", root, false)) {
      t.every(0.1);
      if (t.openTo(background) > 0) {
        throw new IllegalStateException("background delegates failed to open");
      }
      Child revoker = t.startRevoker(List.of(t));
      // RevokeToken calls answered so far: gRPC's timing of one is recorded once the manager has
      // written its answer, which may be after the client has read it, so each scrape waits for it
      int revokes = 0;
      // warm-up: the first revokes pay for class loading and JIT in both processes
      for (int i = 0; i < 5; i++) {
        revoker.call("doom 1", LONG);
        revoker.call("revoke", LONG);
        revokes++;
      }
      // the floors again under the load every revoke below runs beside (the background delegates'
      // heartbeats and their server), on the same file system: a revoke cannot commit faster than these
      double[] fsyncLoaded = MachineFloor.fsyncMillis(root, MachineFloor.FSYNCS);
      double[] h2Loaded = H2CommitProbe.millis(root.resolve("h2-probe-loaded"), PROBE_WARMUP, MachineFloor.FSYNCS);
      System.out.printf(Locale.ROOT, "floors under the background load (%d delegates): 4 KiB write + fsync p50 %.3f ms,"
          + " p99 %.3f ms; H2's durable commit of one row p50 %.3f ms, p99 %.3f ms (idle, before the servers: p50 %.3f ms,"
          + " p99 %.3f ms)%n", background, pct(fsyncLoaded, 50), pct(fsyncLoaded, 99), pct(h2Loaded, 50),
          pct(h2Loaded, 99), pct(h2Idle, 50), pct(h2Idle, 99));
      json.put("h2_commit_idle_p50_ms", pct(h2Idle, 50))
          .put("h2_commit_idle_p99_ms", pct(h2Idle, 99))
          .put("fsync_loaded_p50_ms", pct(fsyncLoaded, 50))
          .put("fsync_loaded_p99_ms", pct(fsyncLoaded, 99))
          .put("h2_commit_loaded_p50_ms", pct(h2Loaded, 50))
          .put("h2_commit_loaded_p99_ms", pct(h2Loaded, 99));
      long ackedAfter = 0;
      Map<Integer, List<double[]>> server = new LinkedHashMap<>();
      HttpClient http = HttpClient.newHttpClient();
      Histogram duringFanOut = new Histogram(3);
      List<Trial> trials = new ArrayList<>();
      List<Double> healthChecks = new ArrayList<>();
      Map<Integer, Double> firsts = new LinkedHashMap<>();
      for (Map.Entry<Integer, Integer> step : plan.entrySet()) {
        int n = step.getKey();
        if (n > 1) {
          // one unmeasured revoke of N streams first: the first fan-out of a size pays for compiling
          // its paths in both processes (reported as revoke_nN_first_ms, not in the percentiles)
          revoker.call("doom " + n, LONG);
          Map<String, String> first = revoker.call("revoke", LONG);
          revokes++;
          ackedAfter += Long.parseLong(first.get("acked_after"));
          firsts.put(n, Double.parseDouble(first.get("last_close_ms")));
        }
        Map<String, Double> sums = phaseSumsAfter(http, t.opsPort(), revokes);
        for (int i = 0; i < step.getValue(); i++) {
          revoker.call("doom " + n, LONG);
          if (n == 1) {
            // the floor of the revoke call's round trip, between the same trials
            healthChecks.add(Double.parseDouble(revoker.call("ping", LONG).get("call_ms")));
          }
          t.stats();
          Map<String, String> r = revoker.call("revoke", LONG);
          revokes++;
          duringFanOut.add(t.stats().roundTripsMicros());
          if (Integer.parseInt(r.get("streams_closed")) != n) {
            throw new IllegalStateException("the manager closed " + r.get("streams_closed") + " streams, expected " + n);
          }
          ackedAfter += Long.parseLong(r.get("acked_after"));
          trials.add(new Trial(n, Double.parseDouble(r.get("last_close_ms")), Double.parseDouble(r.get("call_ms"))));
          // one revoke since the last scrape: each phase's sum grew by exactly this revoke's time
          Map<String, Double> now = phaseSumsAfter(http, t.opsPort(), revokes);
          double[] phases = new double[PHASES.size()];
          for (int p = 0; p < phases.length; p++) {
            phases[p] = (now.get(PHASES.get(p)) - sums.get(PHASES.get(p))) * 1000;
          }
          if (phases[4] <= 0) {
            // a renamed series would otherwise report every call as 0 ms
            throw new IllegalStateException("the manager's /metrics has no grpc_server_processing_duration_seconds_sum"
                + " for a RevokeToken that succeeded, or it did not grow with this revoke");
          }
          server.computeIfAbsent(n, k -> new ArrayList<>()).add(phases);
          sums = now;
        }
      }
      System.out.printf(Locale.ROOT, "%n%7s %6s %22s %22s %22s %22s %16s%n", "N", "trials", "last close p50/p99/max",
          "revoke call p50/p99", "manager's call p50/p99", "manager total p50/p99", "commit p50/p99");
      for (int n : plan.keySet()) {
        double[] close = trials.stream().filter(x -> x.n == n).mapToDouble(Trial::lastCloseMs).sorted().toArray();
        double[] call = trials.stream().filter(x -> x.n == n).mapToDouble(Trial::callMs).sorted().toArray();
        double[] total = server.get(n).stream().mapToDouble(p -> p[0]).sorted().toArray();
        double[] commit = server.get(n).stream().mapToDouble(p -> p[2]).sorted().toArray();
        double[] managerCall = server.get(n).stream().mapToDouble(p -> p[4]).sorted().toArray();
        System.out.printf(Locale.ROOT, "%7d %6d %8.2f/%6.2f/%6.2f %14.2f/%7.2f %14.2f/%7.2f %14.2f/%7.2f %8.2f/%7.2f%n",
            n, close.length, pct(close, 50), pct(close, 99), close[close.length - 1], pct(call, 50), pct(call, 99),
            pct(managerCall, 50), pct(managerCall, 99), pct(total, 50), pct(total, 99), pct(commit, 50),
            pct(commit, 99));
        String key = "revoke_n" + n;
        if (firsts.containsKey(n)) {
          json.put(key + "_first_ms", firsts.get(n));
        }
        json.put(key + "_trials", close.length)
            .put(key + "_p50_ms", pct(close, 50))
            .put(key + "_p99_ms", pct(close, 99))
            .put(key + "_max_ms", close[close.length - 1])
            .put(key + "_call_p50_ms", pct(call, 50))
            .put(key + "_call_p99_ms", pct(call, 99))
            .put(key + "_manager_p50_ms", pct(total, 50))
            .put(key + "_manager_p99_ms", pct(total, 99))
            .put(key + "_commit_p50_ms", pct(commit, 50))
            .put(key + "_commit_p99_ms", pct(commit, 99))
            .put(key + "_fence_p99_ms", pct(server.get(n).stream().mapToDouble(p -> p[1]).sorted().toArray(), 99))
            .put(key + "_close_p99_ms", pct(server.get(n).stream().mapToDouble(p -> p[3]).sorted().toArray(), 99))
            .put(key + "_manager_call_p50_ms", pct(managerCall, 50))
            .put(key + "_manager_call_p99_ms", pct(managerCall, 99));
      }
      double[] health = healthChecks.stream().mapToDouble(Double::doubleValue).sorted().toArray();
      System.out.printf(Locale.ROOT, "a call the manager answers with no work of its own (a health check over TLS,"
          + " from the revoker, between the one-stream trials; %d): p50 %.2f ms, p99 %.2f ms%n", health.length,
          pct(health, 50), pct(health, 99));
      json.put("health_check_call_p50_ms", pct(health, 50))
          .put("health_check_call_p99_ms", pct(health, 99))
          .put("heartbeats_acked_after_revoke", ackedAfter)
          .put("background_delegates", background)
          .put("background_heartbeat_p99_ms", duringFanOut.getTotalCount() == 0 ? 0
              : duringFanOut.getValueAtPercentile(99) / 1000.0);
    }
    System.out.println(json);
  }

  /**
   * {@link #phaseSums} once gRPC's timing counts {@code revokes} RevokeToken calls answered: a
   * call's timing is recorded when the manager has finished writing its answer, which can be
   * after the client read it.
   */
  private static Map<String, Double> phaseSumsAfter(HttpClient http, int opsPort, int revokes)
      throws IOException, InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (true) {
      Map<String, Double> sums = phaseSums(http, opsPort);
      if (sums.get("calls") >= revokes) {
        return sums;
      }
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("the manager's /metrics counts " + sums.get("calls").longValue()
            + " RevokeToken calls answered OK (grpc_server_processing_duration_seconds_count) after " + revokes
            + " revokes, 10 s after the last one returned");
      }
      LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(5));
    }
  }

  /** The sums of the manager's revocation phase histograms (seconds), from its /metrics. */
  static Map<String, Double> phaseSums(HttpClient http, int opsPort) throws IOException, InterruptedException {
    String text = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + opsPort + "/metrics")).build(),
        HttpResponse.BodyHandlers.ofString()).body();
    Map<String, Double> sums = new LinkedHashMap<>();
    Matcher m = PHASE_SUM.matcher(text);
    while (m.find()) {
      sums.put(m.group(1), Double.parseDouble(m.group(2)));
    }
    if (!sums.keySet().containsAll(PHASES.subList(0, 4))) {
      throw new IllegalStateException("the manager's /metrics has no tether_revocation_duration_seconds_sum for"
          + " every phase " + PHASES.subList(0, 4) + "; found " + sums.keySet());
    }
    Matcher call = CALL_SUM.matcher(text);
    // before the first revoke the series does not exist yet: a revoke that leaves it at 0 is caught by the caller
    sums.put("call", call.find() ? Double.parseDouble(call.group(1)) : 0.0);
    Matcher calls = CALL_COUNT.matcher(text);
    sums.put("calls", calls.find() ? Double.parseDouble(calls.group(1)) : 0.0);
    return sums;
  }

  private static double pct(double[] sorted, int p) {
    int rank = (int) Math.ceil(p / 100.0 * sorted.length);
    return sorted[Math.max(0, rank - 1)];
  }
}
