package dev.tether.manager.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tether.common.testing.TokenLedger;
import dev.tether.common.token.DelegateToken;
import dev.tether.delegate.connect.HandshakeClient;
import dev.tether.delegate.connect.StreamClient;
import dev.tether.manager.token.CreatedToken;
import dev.tether.proto.admin.v1.RevokeTokenRequest;
import dev.tether.proto.admin.v1.RevokeTokenResponse;
import dev.tether.proto.admin.v1.TokenAdminGrpc;
import dev.tether.proto.delegate.v1.Register;
import io.grpc.ManagedChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Benchmark, not part of the default test run: revocation latency to the last stream across 3
 * replicas on one PostgreSQL, with {@code tether.bench.streams} streams on each (default 1000),
 * over {@code tether.bench.trials} trials (default 10). Run with scripts/bench-replicas.sh. Prints
 * its results as one JSON object on the last line.
 */
@Tag("benchmark")
class ReplicaRevocationBenchmark {

  @Test
  void revocationLatencyToTheLastStreamAcrossThreeReplicas() throws Exception {
    int perReplica = Integer.getInteger("tether.bench.streams", 1000);
    int trials = Integer.getInteger("tether.bench.trials", 10);
    Path root = Files.createTempDirectory("tether-bench-replicas");
    try (Replicas replicas = new Replicas(root, 3)) {
      String accountId = replicas.get(0).manager().tokens().createAccount("bench", "bench").account().id();
      // delegates are separate hosts: spread the streams over many connections per replica
      int connectionsPerReplica = 20;
      List<List<ManagedChannel>> channels = new ArrayList<>();
      for (int r = 0; r < 3; r++) {
        List<ManagedChannel> connections = new ArrayList<>();
        for (int c = 0; c < connectionsPerReplica; c++) {
          connections.add(replicas.channel(r));
        }
        channels.add(connections);
      }
      ManagedChannel admin = replicas.adminChannel(0);
      double[] toLastClose = new double[trials];
      double[] toReturn = new double[trials];
      ExecutorService pool = Executors.newFixedThreadPool(8);
      // trial -1 warms the JIT up and is not counted
      for (int trial = -1; trial < trials; trial++) {
        CreatedToken token = replicas.get(0).manager().tokens().createToken(accountId, "t" + (trial + 1), "bench", null, null);
        DelegateToken value = TokenLedger.record(token.value());
        List<Future<StreamClient>> opening = new ArrayList<>();
        for (int r = 0; r < 3; r++) {
          for (int i = 0; i < perReplica; i++) {
            ManagedChannel channel = channels.get(r).get(i % connectionsPerReplica);
            String name = "d" + r + "-" + i;
            opening.add(pool.submit(() -> {
              StreamClient c = StreamClient.open(channel,
                  new HandshakeClient(Duration.ofSeconds(30)).handshake(channel, accountId, value, name),
                  Register.newBuilder().setHostname(name).build());
              c.registered().get(60, TimeUnit.SECONDS);
              return c;
            }));
          }
        }
        List<StreamClient> streams = new ArrayList<>();
        for (Future<StreamClient> f : opening) {
          streams.add(f.get(120, TimeUnit.SECONDS));
        }
        AtomicLong lastClose = new AtomicLong();
        for (StreamClient c : streams) {
          c.closed().whenComplete((s, e) -> lastClose.accumulateAndGet(System.nanoTime(), Math::max));
        }
        long started = System.nanoTime();
        RevokeTokenResponse response = TokenAdminGrpc.newBlockingStub(admin).withCallCredentials(replicas.admin())
            .withDeadlineAfter(60, TimeUnit.SECONDS)
            .revokeToken(RevokeTokenRequest.newBuilder().setAccountId(accountId).setName("t" + (trial + 1)).build());
        long returned = System.nanoTime();
        for (StreamClient c : streams) {
          c.closed().get(30, TimeUnit.SECONDS);
        }
        assertThat(response.getStreamsClosed()).isEqualTo(3 * perReplica);
        double returnMs = (returned - started) / 1e6;
        double lastMs = (lastClose.get() - started) / 1e6;
        System.out.printf("%s %d: %d streams on 3 replicas, revoke returned in %.1f ms, last stream closed at %.1f ms%n",
            trial < 0 ? "warm-up" : "trial", trial, 3 * perReplica, returnMs, lastMs);
        if (trial >= 0) {
          toReturn[trial] = returnMs;
          toLastClose[trial] = lastMs;
        }
      }
      pool.shutdown();
      Arrays.sort(toLastClose);
      Arrays.sort(toReturn);
      System.out.printf("{\"scenario\":\"replica-revocation\",\"replicas\":3,\"streams_per_replica\":%d,\"trials\":%d,"
              + "\"revoke_to_last_close_p50_ms\":%.1f,\"revoke_to_last_close_p99_ms\":%.1f,\"revoke_to_last_close_max_ms\":%.1f,"
              + "\"revoke_call_p50_ms\":%.1f,\"revoke_call_p99_ms\":%.1f}%n",
          perReplica, trials, pct(toLastClose, 50), pct(toLastClose, 99), toLastClose[trials - 1],
          pct(toReturn, 50), pct(toReturn, 99));
    }
  }

  /** Nearest-rank percentile of sorted values. */
  private static double pct(double[] sorted, int p) {
    int rank = (int) Math.ceil(p / 100.0 * sorted.length);
    return sorted[Math.max(0, rank - 1)];
  }
}
