package dev.tether.bench;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.HdrHistogram.Histogram;

/**
 * Scenario {@code handshakes}: new delegates open as fast as they can, each on a new TLS
 * connection from a rotating 127.x source address, against the manager (handshake, then the
 * authenticated stream up to Registered), against the baseline (the stream up to Registered,
 * no authentication) and against the protocol's floor ({@link ProtocolFloor}: the manager's wire
 * and cryptography on the baseline, nothing stored), in alternating rounds within one run. Each server runs in a process of its
 * own ({@link BenchServer}, the manager with its handshake limiter opened wide), each server's
 * load in a {@link HandshakeWorker} process of its own; this JVM only orchestrates and adds up.
 */
final class HandshakeScenario {

  private static final int WORKERS = 16;
  /** The unmeasured warm-up of each server, unless {@code --warmup} says otherwise. */
  static final int WARMUP_SECONDS = 2;
  /** Measured rounds of each server, unless {@code --rounds} says otherwise. */
  static final int ROUNDS = 3;
  static final int QUICK_ROUNDS = 2;
  private static final Duration ANSWER = Duration.ofMinutes(2);

  private HandshakeScenario() {}

  /**
   * {@code warmupSeconds} of unmeasured opens against each server first (the servers' JIT compilers
   * are still busy well past the default 2 s: docs/benchmarks.md), then {@code rounds} measured
   * rounds of each, alternating.
   */
  static void run(boolean quick, int warmupSeconds, int rounds) throws Exception {
    Duration round = Duration.ofSeconds(quick ? 5 : 10);
    Path root = Files.createTempDirectory("tether-bench-handshakes");
    System.out.println("data and logs: " + root);
    // floods of handshakes are the point here: the limiter must not be what is measured
    try (Target manager = Target.start("tether", "tether", root, false, List.of("--open-handshake-limits"));
        Target baseline = Target.start("baseline", root, false);
        Target protocol = Target.start("protocol", root, false)) {
      Child tetherLoad = manager.startHandshakeWorker(WORKERS);
      Child baselineLoad = baseline.startHandshakeWorker(WORKERS);
      Child protocolLoad = protocol.startHandshakeWorker(WORKERS);
      // one warm-up of each, not counted
      Duration warmup = Duration.ofSeconds(warmupSeconds);
      Result tetherWarm = measure(manager, tetherLoad, warmup);
      Result baselineWarm = measure(baseline, baselineLoad, warmup);
      Result protocolWarm = measure(protocol, protocolLoad, warmup);
      System.out.printf(Locale.ROOT, "warm-up (%d s, not counted): baseline %.0f opens/s (server CPU %.2f ms per open),"
              + " protocol's floor %.0f/s (%.2f ms), tether %.0f handshakes/s (server CPU %.2f ms per handshake)%n",
          warmupSeconds, baselineWarm.perSecond, baselineWarm.serverCpuMs, protocolWarm.perSecond,
          protocolWarm.serverCpuMs, tetherWarm.perSecond, tetherWarm.serverCpuMs);
      List<Result> tether = new ArrayList<>();
      List<Result> base = new ArrayList<>();
      List<Result> floor = new ArrayList<>();
      for (int i = 0; i < rounds; i++) {
        base.add(measure(baseline, baselineLoad, round));
        floor.add(measure(protocol, protocolLoad, round));
        tether.add(measure(manager, tetherLoad, round));
        System.out.printf(Locale.ROOT, "round %d: baseline %.0f opens/s (p50 %.1f ms, p99 %.1f ms, server CPU %.2f ms"
                + " per open), protocol's floor %.0f/s (p50 %.1f ms, p99 %.1f ms, %.2f ms), tether %.0f handshakes/s"
                + " (p50 %.1f ms, p99 %.1f ms, server CPU %.2f ms per handshake)%n",
            i, base.get(i).perSecond, base.get(i).p50, base.get(i).p99, base.get(i).serverCpuMs,
            floor.get(i).perSecond, floor.get(i).p50, floor.get(i).p99, floor.get(i).serverCpuMs,
            tether.get(i).perSecond, tether.get(i).p50, tether.get(i).p99, tether.get(i).serverCpuMs);
      }
      double tps = median(tether, Result::perSecond);
      double bps = median(base, Result::perSecond);
      double fps = median(floor, Result::perSecond);
      double tcpu = median(tether, Result::serverCpuMs);
      double bcpu = median(base, Result::serverCpuMs);
      double fcpu = median(floor, Result::serverCpuMs);
      Json json = new Json("handshakes", quick)
          .put("workers", WORKERS)
          .put("round_s", round.toSeconds())
          .put("rounds", rounds)
          .put("warmup_s", warmupSeconds)
          .put("handshakes_per_s", tps)
          .put("open_p50_ms", median(tether, Result::p50))
          .put("open_p99_ms", median(tether, Result::p99))
          .put("baseline_opens_per_s", bps)
          .put("baseline_open_p50_ms", median(base, Result::p50))
          .put("baseline_open_p99_ms", median(base, Result::p99))
          .put("ratio", tps / bps)
          .put("open_errors", tether.stream().mapToLong(Result::errors).sum())
          .put("baseline_open_errors", base.stream().mapToLong(Result::errors).sum())
          .put("server_cpu_ms_per_handshake", tcpu)
          .put("baseline_server_cpu_ms_per_open", bcpu)
          .put("server_cpu_ratio", tcpu / bcpu)
          .put("load_processes_per_server", 1)
          // the protocol's floor: the manager's wire on bare grpc-java, nothing stored (ProtocolFloor)
          .put("protocol_opens_per_s", fps)
          .put("protocol_open_p50_ms", median(floor, Result::p50))
          .put("protocol_open_p99_ms", median(floor, Result::p99))
          .put("protocol_open_errors", floor.stream().mapToLong(Result::errors).sum())
          .put("protocol_server_cpu_ms_per_open", fcpu)
          .put("protocol_ratio", fps / bps)
          .put("ratio_to_protocol", tps / fps)
          .put("server_cpu_ratio_to_protocol", tcpu / fcpu);
      System.out.println(json);
    }
  }

  /** One round: opens per second, latency percentiles (ms), failed opens, the server's CPU per open (ms). */
  private record Result(double perSecond, double p50, double p99, long errors, double serverCpuMs) {}

  /** Has {@code load} open delegates on {@code target} for {@code duration}; the server's CPU over the round. */
  private static Result measure(Target target, Child load, Duration duration) throws Exception {
    Duration cpuBefore = target.serverCpu();
    Map<String, String> answer = load.call(String.format(Locale.ROOT, "measure %.3f", duration.toMillis() / 1000.0),
        duration.plus(ANSWER));
    Duration cpu = target.serverCpu().minus(cpuBefore);
    long opens = Long.parseLong(answer.get("opens"));
    long errors = Long.parseLong(answer.get("errors"));
    double seconds = Double.parseDouble(answer.get("seconds"));
    Histogram micros = Histograms.decode(answer.get("histogram"));
    if (errors > 0) {
      System.out.printf("  (%d opens failed against %s; see %s)%n", errors, target.name, target.serverLog());
    }
    return new Result(opens / seconds, percentileMs(micros, 50), percentileMs(micros, 99), errors,
        opens == 0 ? Double.NaN : cpu.toNanos() / 1e6 / opens);
  }

  private static double percentileMs(Histogram micros, double p) {
    return micros.getTotalCount() == 0 ? 0 : micros.getValueAtPercentile(p) / 1000.0;
  }

  private static double median(List<Result> results, java.util.function.ToDoubleFunction<Result> figure) {
    return median(results.stream().mapToDouble(figure).toArray());
  }

  static double median(double[] values) {
    double[] v = values.clone();
    Arrays.sort(v);
    return v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
  }
}
