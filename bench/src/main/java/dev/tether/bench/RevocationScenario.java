package dev.tether.bench;

import dev.tether.common.token.DelegateToken;
import dev.tether.delegate.connect.HandshakeClient;
import dev.tether.delegate.connect.StreamClient;
import dev.tether.manager.admin.AdminCredentials;
import dev.tether.manager.auth.HandshakeLimiter;
import dev.tether.manager.server.ManagerServer;
import dev.tether.manager.server.ManagerSettings;
import dev.tether.manager.token.CreatedToken;
import dev.tether.proto.admin.v1.RevokeTokenRequest;
import dev.tether.proto.admin.v1.TokenAdminGrpc;
import dev.tether.proto.delegate.v1.Register;
import io.grpc.ManagedChannel;
import io.grpc.TlsChannelCredentials;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Scenario {@code revocation}: N streams on one token (N = 1, 100, 10 000; quick: 1 and 100) among
 * background delegates heartbeating on another token. Measures, over repeated trials, the time
 * from the revoke call to the last stream's close seen by the client, the heartbeats the manager
 * accepted for the token after the revoke returned (must be 0), and the background heartbeat
 * round trip p99 during the fan-out.
 */
final class RevocationScenario {

  private RevocationScenario() {}

  static void run(boolean quick) throws Exception {
    Map<Integer, Integer> plan = new LinkedHashMap<>();
    plan.put(1, quick ? 20 : 50);
    plan.put(100, quick ? 5 : 20);
    if (!quick) {
      plan.put(10_000, 3);
    }
    int background = quick ? 50 : 200;
    Path dir = Files.createTempDirectory("tether-bench-revocation");
    ManagerSettings settings = ManagerSettings.defaults().withLimits(
        new HandshakeLimiter.Settings(100_000, 1e9, 1e9, 1e9, 1e9, Duration.ofHours(1), 100_000));
    try (ManagerServer manager = ManagerServer.start(new ManagerServer.Options(new InetSocketAddress("127.0.0.1", 0), dir,
        null, null, null, false, null, null, List.of(), settings))) {
      var credentials = TlsChannelCredentials.newBuilder().trustManager(dir.resolve("tls/manager.crt").toFile()).build();
      List<ManagedChannel> channels = new ArrayList<>();
      for (int i = 0; i < 100; i++) {
        String from = "127.0.2." + (1 + i);
        channels.add(NettyChannelBuilder.forAddress("127.0.0.1", manager.listenAddress().getPort(), credentials)
            .localSocketPicker(new NettyChannelBuilder.LocalSocketPicker() {
              @Override
              public java.net.SocketAddress createSocketAddress(java.net.SocketAddress remote, io.grpc.Attributes attrs) {
                return new InetSocketAddress(from, 0);
              }
            }).build());
      }
      AdminCredentials admin = new AdminCredentials(Files.readString(dir.resolve("admin.key")).strip());
      String accountId = manager.manager().tokens().createAccount("bench", "bench").account().id();
      ExecutorService pool = Executors.newFixedThreadPool(8);
      ScheduledExecutorService beat = Executors.newScheduledThreadPool(1);

      // background delegates: a heartbeat every 100 ms each, round trip recorded
      CreatedToken backgroundToken = manager.manager().tokens().createToken(accountId, "background", "bench", null, null);
      List<StreamClient> backgroundStreams = open(pool, channels, accountId, backgroundToken.value(), background, "bg");
      ConcurrentLinkedQueue<Long> roundTrips = new ConcurrentLinkedQueue<>();
      Map<Long, Long> sentAt = new java.util.concurrent.ConcurrentHashMap<>();
      for (StreamClient c : backgroundStreams) {
        c.onAck((seq, at) -> {
          Long sent = sentAt.remove(((long) System.identityHashCode(c) << 32) | seq);
          if (sent != null) {
            roundTrips.add(System.nanoTime() - sent);
          }
        });
      }
      beat.scheduleAtFixedRate(() -> {
        for (StreamClient c : backgroundStreams) {
          long key = (long) System.identityHashCode(c) << 32;
          long now = System.nanoTime();
          long seq = c.heartbeat();
          if (seq > 0) {
            sentAt.put(key | seq, now);
          }
        }
      }, 100, 100, TimeUnit.MILLISECONDS);

      Map<String, Object> result = new LinkedHashMap<>();
      long acceptedAfter = 0;
      List<Long> duringFanOut = new ArrayList<>();
      int trialNo = 0;
      for (Map.Entry<Integer, Integer> step : plan.entrySet()) {
        int n = step.getKey();
        double[] latencies = new double[step.getValue()];
        for (int trial = 0; trial < step.getValue(); trial++) {
          CreatedToken token = manager.manager().tokens().createToken(accountId, "t" + (trialNo++), "bench", null, null);
          List<StreamClient> streams = open(pool, channels, accountId, token.value(), n, "n" + n);
          AtomicLong lastClose = new AtomicLong();
          for (StreamClient c : streams) {
            c.closed().whenComplete((s, e) -> lastClose.accumulateAndGet(System.nanoTime(), Math::max));
          }
          roundTrips.clear();
          long started = System.nanoTime();
          TokenAdminGrpc.newBlockingStub(channels.get(0)).withCallCredentials(admin).withDeadlineAfter(60, TimeUnit.SECONDS)
              .revokeToken(RevokeTokenRequest.newBuilder().setAccountId(accountId).setName(token.record().name()).build());
          long accepted = manager.manager().registry().fence(token.record().id()).acceptedHeartbeats();
          for (StreamClient c : streams) {
            c.heartbeat();
            c.closed().get(60, TimeUnit.SECONDS);
          }
          latencies[trial] = (lastClose.get() - started) / 1e6;
          duringFanOut.addAll(roundTrips);
          acceptedAfter += manager.manager().registry().fence(token.record().id()).acceptedHeartbeats() - accepted;
        }
        Arrays.sort(latencies);
        System.out.printf(Locale.ROOT, "N=%d: %d trials, revoke to last close p50 %.2f ms, p99 %.2f ms, max %.2f ms%n",
            n, latencies.length, pct(latencies, 50), pct(latencies, 99), latencies[latencies.length - 1]);
        String key = "revoke_n" + n;
        result.put(key + "_p50_ms", round(pct(latencies, 50)));
        result.put(key + "_p99_ms", round(pct(latencies, 99)));
        result.put(key + "_max_ms", round(latencies[latencies.length - 1]));
      }
      beat.shutdownNow();
      pool.shutdown();
      double[] rt = duringFanOut.stream().mapToDouble(v -> v / 1e6).sorted().toArray();
      result.put("heartbeats_acked_after_revoke", acceptedAfter);
      result.put("background_delegates", background);
      result.put("background_heartbeat_p99_ms", rt.length == 0 ? 0 : round(pct(rt, 99)));
      StringBuilder json = new StringBuilder("{\"scenario\":\"revocation\",\"quick\":" + quick);
      result.forEach((k, v) -> json.append(",\"").append(k).append("\":").append(v));
      System.out.println(json.append('}'));
      channels.forEach(ManagedChannel::shutdownNow);
    }
  }

  private static List<StreamClient> open(ExecutorService pool, List<ManagedChannel> channels, String accountId,
      DelegateToken token, int count, String prefix) throws Exception {
    List<Future<StreamClient>> opening = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      ManagedChannel channel = channels.get(i % channels.size());
      String name = prefix + "-" + i;
      opening.add(pool.submit(() -> {
        StreamClient c = StreamClient.open(channel,
            new HandshakeClient(Duration.ofSeconds(30)).handshake(channel, accountId, token, name),
            Register.newBuilder().setHostname(name).build());
        c.registered().get(60, TimeUnit.SECONDS);
        return c;
      }));
    }
    List<StreamClient> out = new ArrayList<>();
    for (Future<StreamClient> f : opening) {
      out.add(f.get(300, TimeUnit.SECONDS));
    }
    return out;
  }

  private static double pct(double[] sorted, int p) {
    int rank = (int) Math.ceil(p / 100.0 * sorted.length);
    return sorted[Math.max(0, rank - 1)];
  }

  private static double round(double v) {
    return Math.round(v * 100) / 100.0;
  }
}
