package dev.tether.bench;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Scenario {@code streams-held}: ramps delegates (one TLS connection and one heartbeat stream
 * each, a heartbeat every 10 s) against the manager, then against the baseline, then against the
 * protocol's floor ({@link ProtocolFloor}: the manager's wire on the baseline), each in a process
 * of its own, until the heartbeat round trip p99 passes 100 ms in two windows in a row, errors
 * appear, or the server
 * process nears its limit on open files. At each step: the server's heap after a full
 * collection and its RSS, against the same server with no delegates.
 */
final class StreamsHeldScenario {

  private static final double P99_LIMIT_MS = 100;
  /** Files the server process keeps open besides its connections (jars, H2, epoll, pipes), with margin. */
  private static final int SERVER_OWN_FILES = 200;
  private static final int QUICK_MAX = 2_000;

  private StreamsHeldScenario() {}

  record Step(int streams, int failed, long dropped, long sent, long acked, double p50Ms, double p99Ms, long heap,
      long rss, long clientRss) {}

  record Ramp(String kind, List<Step> steps, Step held, String stoppedBy, long heap0, long rss0, long fdMax) {
    long heapPerConnection() {
      return held == null ? 0 : (held.heap - heap0) / held.streams;
    }

    long rssPerConnection() {
      return held == null ? 0 : (held.rss - rss0) / held.streams;
    }
  }

  static void run(boolean quick, int max) throws Exception {
    Path root = Files.createTempDirectory("tether-bench-streams");
    System.out.println("data and logs: " + root);
    Ramp tether = ramp("tether", root, quick, max);
    Ramp baseline = ramp("baseline", root, quick, max);
    Ramp protocol = ramp("protocol", root, quick, max);
    System.out.println();
    System.out.printf(Locale.ROOT, "%-9s %8s %10s %10s %14s %14s  %s%n", "server", "held", "hb p50 ms", "hb p99 ms",
        "heap B/conn", "RSS B/conn", "stopped by");
    for (Ramp r : List.of(tether, baseline, protocol)) {
      System.out.printf(Locale.ROOT, "%-9s %8d %10.2f %10.2f %14d %14d  %s%n", r.kind, r.held == null ? 0 : r.held.streams,
          r.held == null ? 0 : r.held.p50Ms, r.held == null ? 0 : r.held.p99Ms, r.heapPerConnection(), r.rssPerConnection(),
          r.stoppedBy);
    }
    Json json = new Json("streams-held", quick)
        .put("streams_held", tether.held == null ? 0 : tether.held.streams)
        .put("heap_bytes_per_connection", tether.heapPerConnection())
        .put("rss_bytes_per_connection", tether.rssPerConnection())
        .put("heartbeat_p99_ms_at_held", tether.held == null ? 0 : tether.held.p99Ms)
        .put("stopped_by", tether.stoppedBy)
        .put("baseline_streams_held", baseline.held == null ? 0 : baseline.held.streams)
        .put("baseline_heap_bytes_per_connection", baseline.heapPerConnection())
        .put("baseline_rss_bytes_per_connection", baseline.rssPerConnection())
        .put("baseline_heartbeat_p99_ms_at_held", baseline.held == null ? 0 : baseline.held.p99Ms)
        .put("baseline_stopped_by", baseline.stoppedBy)
        .put("heap_ratio", ratio(tether.heapPerConnection(), baseline.heapPerConnection()))
        .put("rss_ratio", ratio(tether.rssPerConnection(), baseline.rssPerConnection()))
        .put("server_fd_limit", tether.fdMax)
        .putValue("steps", tether.steps)
        .putValue("baseline_steps", baseline.steps)
        // the protocol's floor: the manager's wire on bare grpc-java, nothing stored (ProtocolFloor)
        .put("protocol_streams_held", protocol.held == null ? 0 : protocol.held.streams)
        .put("protocol_heap_bytes_per_connection", protocol.heapPerConnection())
        .put("protocol_rss_bytes_per_connection", protocol.rssPerConnection())
        .put("protocol_heartbeat_p99_ms_at_held", protocol.held == null ? 0 : protocol.held.p99Ms)
        .put("protocol_stopped_by", protocol.stoppedBy)
        .put("protocol_heap_ratio", ratio(protocol.heapPerConnection(), baseline.heapPerConnection()))
        .put("heap_ratio_to_protocol", ratio(tether.heapPerConnection(), protocol.heapPerConnection()))
        .putValue("protocol_steps", protocol.steps);
    System.out.println(json);
  }

  private static Ramp ramp(String kind, Path root, boolean quick, int max) throws Exception {
    List<Step> steps = new ArrayList<>();
    Step held = null;
    String stoppedBy = null;
    long windowMs = quick ? 10_000 : 20_000;
    try (Target t = Target.start(kind, root, false)) {
      long heap0 = t.heapAfterGc();
      long rss0 = t.serverRss();
      // quick: two steps, enough to see the per-connection cost, not the ceiling
      int cap = (int) Math.min(quick ? Math.min(max, QUICK_MAX) : max, t.fdMax - SERVER_OWN_FILES);
      int stepSize = quick ? 1000 : 2500;
      System.out.printf(Locale.ROOT, "%s: no delegates: heap after GC %d B, RSS %d B; ramping by %d to at most %d%n",
          kind, heap0, rss0, stepSize, cap);
      t.every(10);
      for (int n = Math.min(stepSize, cap); ; n = Math.min(n + stepSize, cap)) {
        int failed = t.openTo(n);
        Thread.sleep(2_000);
        t.stats();
        Thread.sleep(windowMs);
        Target.Window w = t.stats();
        if (w.p99Ms() > P99_LIMIT_MS && w.dropped() == 0 && failed == 0) {
          // one window can hold one pause of this shared machine: the limit must show twice in a row
          System.out.printf(Locale.ROOT, "%s: %6d streams: p99 %.2f ms, measuring again%n", kind, n, w.p99Ms());
          Thread.sleep(windowMs);
          w = t.stats();
        }
        Step step = new Step(n, failed, w.dropped(), w.sent(), w.acked(), w.p50Ms(), w.p99Ms(), t.heapAfterGc(),
            t.serverRss(), t.clientRss());
        steps.add(step);
        System.out.printf(Locale.ROOT, "%s: %6d streams: %d failed to open, %d dropped, %d heartbeats %d acked, "
                + "p50 %.2f ms p99 %.2f ms, heap %d B, RSS %d B%n", kind, n, failed, w.dropped(), w.sent(), w.acked(),
            w.p50Ms(), w.p99Ms(), step.heap, step.rss);
        if (failed > 0 || w.dropped() > 0) {
          stoppedBy = "errors at " + n + " (" + failed + " failed to open, " + w.dropped() + " dropped)";
        } else if (w.p99Ms() > P99_LIMIT_MS) {
          stoppedBy = "heartbeat p99 " + w.p99Ms() + " ms at " + n;
        } else if (w.sent() - w.acked() > Math.max(10, w.sent() / 100)) {
          stoppedBy = (w.sent() - w.acked()) + " heartbeats unanswered at " + n;
        } else {
          held = step;
          if (n == cap) {
            stoppedBy = quick ? "--quick stops at " + cap : cap == max ? "the --max of " + max
                : "the server's open-file limit (" + t.fdMax + ", hard limit of this machine)";
          }
        }
        if (stoppedBy != null) {
          break;
        }
      }
      t.rate(0);
      return new Ramp(kind, steps, held, stoppedBy, heap0, rss0, t.fdMax);
    }
  }

  private static double ratio(long a, long b) {
    return b == 0 ? 0 : Math.round(1000.0 * a / b) / 1000.0;
  }
}
