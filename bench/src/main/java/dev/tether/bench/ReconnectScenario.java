package dev.tether.bench;

import java.net.http.HttpClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;

/**
 * Scenario {@code reconnect}: N delegates connected (10 000; quick: 1 000), each heartbeating every
 * 10 s and coming back after a lost stream the way {@code DelegateAgent} does (same channel, new
 * handshake, exponential backoff with full jitter). The server is stopped gracefully and started
 * again on the same port and data; measured: the time until 99 % and 100 % are registered again,
 * counted from the start of the new server process and from the stop, and the arrival curve.
 * Against the manager, then against the baseline, whose delegates use the same backoff, then
 * against the protocol's floor ({@link ProtocolFloor}: the manager's wire on the baseline, nothing
 * stored), whose delegates come back exactly as the manager's do.
 */
final class ReconnectScenario {

  private ReconnectScenario() {}

  /**
   * {@code registrations}: the manager's registration meters over the whole reconnect (its new
   * process's life), null for a server without them.
   */
  record Result(String server, int delegates, double downtimeS, double back99S, double back100S, double back99FromStopS,
      long back, List<Integer> arrivalsPerSecond, RegistrationTimes registrations) {}

  static void run(boolean quick) throws Exception {
    int n = quick ? 1_000 : 10_000;
    Path root = Files.createTempDirectory("tether-bench-reconnect");
    System.out.println("data and logs: " + root);
    Result tether = measure("tether", root, n);
    Result baseline = measure("baseline", root, n);
    Result protocol = measure("protocol", root, n);
    System.out.printf(Locale.ROOT, "%n%-9s %9s %12s %12s %12s%n", "server", "delegates", "99 % back s", "100 % back s",
        "downtime s");
    for (Result r : List.of(tether, baseline, protocol)) {
      System.out.printf(Locale.ROOT, "%-9s %9d %12.2f %12.2f %12.2f%n", r.server, r.delegates, r.back99S, r.back100S,
          r.downtimeS);
    }
    // the manager's registration meters over the reconnect; null if its last scrape failed
    RegistrationTimes r = tether.registrations;
    System.out.println(new Json("reconnect", quick)
        .put("delegates", n)
        .put("reconnect_99_s", tether.back99S)
        .put("reconnect_100_s", tether.back100S)
        .put("reconnect_99_from_stop_s", tether.back99FromStopS)
        .put("downtime_s", tether.downtimeS)
        .put("baseline_reconnect_99_s", baseline.back99S)
        .put("baseline_reconnect_100_s", baseline.back100S)
        .put("baseline_downtime_s", baseline.downtimeS)
        .put("ratio", baseline.back99S == 0 ? 0 : tether.back99S / baseline.back99S)
        .putValue("arrivals_per_second", tether.arrivalsPerSecond)
        .putValue("baseline_arrivals_per_second", baseline.arrivalsPerSecond)
        // the protocol's floor: the manager's wire on bare grpc-java, nothing stored (ProtocolFloor)
        .put("protocol_reconnect_99_s", protocol.back99S)
        .put("protocol_reconnect_100_s", protocol.back100S)
        .put("protocol_downtime_s", protocol.downtimeS)
        .put("protocol_ratio", baseline.back99S == 0 ? 0 : protocol.back99S / baseline.back99S)
        .put("ratio_to_protocol", protocol.back99S == 0 ? 0 : tether.back99S / protocol.back99S)
        .putValue("protocol_arrivals_per_second", protocol.arrivalsPerSecond)
        // the manager's own meters over the reconnect (docs/observability.md): Register to
        // Registered, and its parts, waiting for the writer and the transaction that wrote the row
        .putValue("registrations_timed", r == null ? null : r.count(RegistrationTimes.TOTAL))
        .put("registration_total_p50_ms", r == null ? Double.NaN : r.totalQuantileMs(0.50))
        .put("registration_total_p99_ms", r == null ? Double.NaN : r.totalQuantileMs(0.99))
        .put("registration_total_mean_ms", r == null ? Double.NaN : r.meanMs(RegistrationTimes.TOTAL))
        .put("registration_queued_mean_ms", r == null ? Double.NaN : r.meanMs(RegistrationTimes.QUEUED))
        .put("registration_commit_mean_ms", r == null ? Double.NaN : r.meanMs(RegistrationTimes.COMMIT))
        .put("registrations_per_commit_mean", r == null ? Double.NaN : r.perCommitMean()));
  }

  /** The manager's registration meters now; null, said why, if its /metrics could not be read. */
  private static RegistrationTimes scrape(String kind, HttpClient http, int opsPort) throws InterruptedException {
    try {
      return RegistrationTimes.scrape(http, opsPort);
    } catch (java.io.IOException | RuntimeException e) {
      // the reconnect's own figures do not depend on it: one lost line, not the scenario
      System.out.printf(Locale.ROOT, "  %s: its /metrics could not be read: %s%n", kind, e);
      return null;
    }
  }

  private static void printRegistrations(String kind, long readyAt, RegistrationTimes interval) {
    System.out.printf(Locale.ROOT, "  %s: %5.1f s after the start: since the last line %s%n", kind,
        (System.currentTimeMillis() - readyAt) / 1000.0, describe(interval));
  }

  private static String describe(RegistrationTimes r) {
    long written = r.count(RegistrationTimes.COMMIT);
    long told = r.count(RegistrationTimes.TOTAL);
    // a scrape is not one snapshot: a commit's timers may be in it and its count of rows not yet
    double perCommit = r.perCommitMean();
    String rows = written == 0 ? "no row written" : String.format(Locale.ROOT,
        "%d rows written, %s a commit, waiting %.0f ms for the writer and %.0f ms in its commit (means)", written,
        Double.isNaN(perCommit) ? "?" : String.format(Locale.ROOT, "%.1f", perCommit),
        r.meanMs(RegistrationTimes.QUEUED), r.meanMs(RegistrationTimes.COMMIT));
    String registered = told == 0 ? "none told Registered" : String.format(Locale.ROOT,
        "%d told Registered, %.0f ms after their Register (mean; p50 %.0f, p99 %.0f ms by the buckets)", told,
        r.meanMs(RegistrationTimes.TOTAL), r.totalQuantileMs(0.5), r.totalQuantileMs(0.99));
    return rows + "; " + registered;
  }

  private static Result measure(String kind, Path root, int n) throws Exception {
    try (Target t = Target.start(kind, root, true)) {
      t.every(10);
      int failed = t.openTo(n);
      if (failed > 0) {
        throw new IllegalStateException(failed + " delegates failed to open against " + kind);
      }
      t.arrivals();
      long stoppedAt = System.currentTimeMillis();
      Duration restart = t.restart();
      long readyAt = System.currentTimeMillis();
      System.out.printf(Locale.ROOT, "%s: stopped and started again in %.2f s (the new process in %.2f s)%n", kind,
          (readyAt - stoppedAt) / 1000.0, restart.toMillis() / 1000.0);
      System.out.printf(Locale.ROOT, "  %s: failed attempts while it was down: %s%n", kind, t.failures());
      long deadline = readyAt + 120_000;
      long connected = 0;
      // the manager's registration meters, scraped with each progress line (the scrape is the
      // manager's work too, twice a second)
      HttpClient http = t.opsPort() > 0 ? HttpClient.newHttpClient() : null;
      RegistrationTimes registrations = http == null ? null : scrape(kind, http, t.opsPort());
      if (registrations != null) {
        printRegistrations(kind, readyAt, registrations);
      }
      for (int tick = 1; System.currentTimeMillis() < deadline && (connected = t.connected()) < n; tick++) {
        Thread.sleep(500);
        System.out.printf(Locale.ROOT, "  %s: %5.1f s after the start: %d of %d back%n", kind,
            (System.currentTimeMillis() - readyAt) / 1000.0, connected, n);
        RegistrationTimes now = http == null ? null : scrape(kind, http, t.opsPort());
        if (now != null) {
          // since the last scrape that worked, or since the process started
          printRegistrations(kind, readyAt, registrations == null ? now : now.since(registrations));
          registrations = now;
        }
        if (tick % 4 == 0) {
          System.out.printf(Locale.ROOT, "  %s: failed attempts in the last 2 s: %s%n", kind, t.failures());
        }
      }
      List<Long> arrivals = new ArrayList<>(t.arrivals());
      Collections.sort(arrivals);
      if (arrivals.isEmpty()) {
        throw new IllegalStateException("no delegate came back to " + kind);
      }
      int at99 = (int) Math.ceil(0.99 * n) - 1;
      double back99 = at99 < arrivals.size() ? (arrivals.get(at99) - readyAt) / 1000.0 : Double.NaN;
      double back100 = arrivals.size() >= n ? (arrivals.get(n - 1) - readyAt) / 1000.0 : Double.NaN;
      List<Integer> perSecond = new ArrayList<>();
      for (long a : arrivals) {
        int second = (int) Math.max(0, (a - readyAt) / 1000);
        while (perSecond.size() <= second) {
          perSecond.add(0);
        }
        perSecond.set(second, perSecond.get(second) + 1);
      }
      System.out.printf(Locale.ROOT, "%s: %d of %d back; 99 %% after %.2f s, all after %.2f s; per second: %s%n", kind,
          arrivals.size(), n, back99, back100, perSecond);
      if (http != null) {
        // every count since the new process started: the whole reconnect
        registrations = scrape(kind, http, t.opsPort());
        if (registrations != null) {
          System.out.printf(Locale.ROOT, "%s: registrations over the reconnect: %s%n", kind, describe(registrations));
        }
      }
      return new Result(kind, n, (readyAt - stoppedAt) / 1000.0, back99, back100,
          at99 < arrivals.size() ? (arrivals.get(at99) - stoppedAt) / 1000.0 : Double.NaN, arrivals.size(), perSecond,
          registrations);
    }
  }
}
