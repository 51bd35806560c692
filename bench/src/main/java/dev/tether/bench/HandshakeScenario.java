package dev.tether.bench;

import dev.tether.common.token.DelegateToken;
import dev.tether.delegate.connect.EstablishedSession;
import dev.tether.delegate.connect.HandshakeClient;
import dev.tether.manager.auth.HandshakeLimiter;
import dev.tether.manager.server.ManagerServer;
import dev.tether.manager.server.ManagerSettings;
import dev.tether.manager.token.CreatedAccount;
import dev.tether.proto.delegate.v1.DelegateMessage;
import dev.tether.proto.delegate.v1.DelegateStreamGrpc;
import dev.tether.proto.delegate.v1.ManagerMessage;
import dev.tether.proto.delegate.v1.Register;
import io.grpc.CallCredentials;
import io.grpc.ManagedChannel;
import io.grpc.TlsChannelCredentials;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.netty.channel.EventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.nio.NioEventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.socket.nio.NioSocketChannel;
import io.grpc.stub.StreamObserver;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Scenario {@code handshakes}: new delegates open as fast as they can, each on a new TLS
 * connection from a rotating 127.x source address, against the manager (handshake, then the
 * authenticated stream up to Registered) and against the baseline (the stream up to Registered,
 * no authentication), in alternating rounds within one run.
 */
final class HandshakeScenario {

  private static final int WORKERS = 16;

  private HandshakeScenario() {}

  static void run(boolean quick) throws Exception {
    Duration round = Duration.ofSeconds(quick ? 5 : 10);
    int rounds = quick ? 2 : 3;
    Path dir = Files.createTempDirectory("tether-bench-handshakes");
    // floods of handshakes are the point here: the limiter must not be what is measured
    ManagerSettings settings = ManagerSettings.defaults().withLimits(
        HandshakeLimiter.Settings.defaults().withMaxConcurrent(100_000).withMaxConcurrentPerAddress(100_000)
            .withMaxConcurrentPerConnection(100_000).withFailuresPerAddress(1e9, 1e9));
    try (ManagerServer manager = ManagerServer.start(new ManagerServer.Options(new InetSocketAddress("127.0.0.1", 0), new InetSocketAddress("127.0.0.1", 0), dir,
            null, null, null, false, null, null, List.of(), settings));
        Baseline baseline = new Baseline(dir.resolve("tls/manager.crt"), dir.resolve("tls/manager.key"))) {
      CreatedAccount account = manager.manager().tokens().createAccount("bench", "bench");
      DelegateToken token = account.defaultToken().value();
      EventLoopGroup loops = new NioEventLoopGroup(2);
      List<Result> tether = new ArrayList<>();
      List<Result> base = new ArrayList<>();
      try {
        // one short warm-up of each, not counted
        measure(Duration.ofSeconds(2), manager.listenAddress().getPort(), dir, loops, account.account().id(), token);
        measure(Duration.ofSeconds(2), baseline.port(), dir, loops, null, null);
        for (int i = 0; i < rounds; i++) {
          base.add(measure(round, baseline.port(), dir, loops, null, null));
          tether.add(measure(round, manager.listenAddress().getPort(), dir, loops, account.account().id(), token));
          System.out.printf(Locale.ROOT, "round %d: baseline %.0f opens/s (p50 %.1f ms, p99 %.1f ms), tether %.0f"
                  + " handshakes/s (p50 %.1f ms, p99 %.1f ms)%n", i, base.get(i).perSecond, base.get(i).p50,
              base.get(i).p99, tether.get(i).perSecond, tether.get(i).p50, tether.get(i).p99);
        }
      } finally {
        loops.shutdownGracefully(0, 1, TimeUnit.SECONDS);
      }
      double tps = median(tether.stream().mapToDouble(r -> r.perSecond).toArray());
      double bps = median(base.stream().mapToDouble(r -> r.perSecond).toArray());
      System.out.printf(Locale.ROOT, "{\"scenario\":\"handshakes\",\"quick\":%s,\"workers\":%d,\"round_s\":%d,\"rounds\":%d,"
              + "\"handshakes_per_s\":%.1f,\"open_p50_ms\":%.2f,\"open_p99_ms\":%.2f,\"baseline_opens_per_s\":%.1f,"
              + "\"baseline_open_p50_ms\":%.2f,\"baseline_open_p99_ms\":%.2f,\"ratio\":%.3f}%n",
          quick, WORKERS, round.toSeconds(), rounds, tps, median(tether.stream().mapToDouble(r -> r.p50).toArray()),
          median(tether.stream().mapToDouble(r -> r.p99).toArray()), bps,
          median(base.stream().mapToDouble(r -> r.p50).toArray()), median(base.stream().mapToDouble(r -> r.p99).toArray()),
          tps / bps);
    }
  }

  private record Result(double perSecond, double p50, double p99) {}

  /** Opens delegates from {@link #WORKERS} threads for {@code duration}; with a token, authenticated. */
  private static Result measure(Duration duration, int port, Path dir, EventLoopGroup loops, String accountId,
      DelegateToken token) throws Exception {
    TlsChannelCredentials.Builder tls = TlsChannelCredentials.newBuilder().trustManager(dir.resolve("tls/manager.crt").toFile());
    var credentials = tls.build();
    ConcurrentLinkedQueue<Long> latencies = new ConcurrentLinkedQueue<>();
    AtomicLong errors = new AtomicLong();
    AtomicInteger source = new AtomicInteger();
    long deadline = System.nanoTime() + duration.toNanos();
    ExecutorService pool = Executors.newFixedThreadPool(WORKERS);
    long started = System.nanoTime();
    for (int w = 0; w < WORKERS; w++) {
      pool.submit(() -> {
        HandshakeClient handshakes = new HandshakeClient(Duration.ofSeconds(10));
        while (System.nanoTime() < deadline) {
          // spread the connections over 127.0.1.1 .. 127.0.1.250 to stay clear of per-address port limits
          String from = "127.0.1." + (1 + Math.floorMod(source.getAndIncrement(), 250));
          ManagedChannel channel = NettyChannelBuilder.forAddress("127.0.0.1", port, credentials)
              .eventLoopGroup(loops).channelType(NioSocketChannel.class)
              .localSocketPicker(new NettyChannelBuilder.LocalSocketPicker() {
                @Override
                public java.net.SocketAddress createSocketAddress(java.net.SocketAddress remote, io.grpc.Attributes attrs) {
                  return new InetSocketAddress(from, 0);
                }
              })
              .build();
          long t0 = System.nanoTime();
          try {
            CallCredentials session = null;
            if (token != null) {
              EstablishedSession s = handshakes.handshake(channel, accountId, token, "bench");
              session = new dev.tether.delegate.connect.SessionCredentials(s);
            }
            registerOnce(channel, session);
            latencies.add(System.nanoTime() - t0);
          } catch (Exception e) {
            errors.incrementAndGet();
          } finally {
            channel.shutdownNow();
          }
        }
        return null;
      });
    }
    pool.shutdown();
    pool.awaitTermination(duration.toSeconds() + 60, TimeUnit.SECONDS);
    double seconds = (System.nanoTime() - started) / 1e9;
    long[] sorted = latencies.stream().mapToLong(Long::longValue).sorted().toArray();
    if (errors.get() > 0) {
      System.out.printf("  (%d opens failed)%n", errors.get());
    }
    return new Result(sorted.length / seconds, pct(sorted, 50) / 1e6, pct(sorted, 99) / 1e6);
  }

  /** Opens the delegate stream, sends Register, waits for Registered, ends the stream. */
  private static void registerOnce(ManagedChannel channel, CallCredentials session) throws Exception {
    CompletableFuture<Boolean> registered = new CompletableFuture<>();
    var stub = DelegateStreamGrpc.newStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS);
    if (session != null) {
      stub = stub.withCallCredentials(session);
    }
    StreamObserver<DelegateMessage> requests = stub.connect(new StreamObserver<ManagerMessage>() {
      @Override
      public void onNext(ManagerMessage value) {
        registered.complete(value.hasRegistered());
      }

      @Override
      public void onError(Throwable t) {
        registered.completeExceptionally(t);
      }

      @Override
      public void onCompleted() {
        registered.complete(false);
      }
    });
    requests.onNext(DelegateMessage.newBuilder().setRegister(Register.newBuilder().setHostname("bench-host")).build());
    if (!registered.get(10, TimeUnit.SECONDS)) {
      throw new IllegalStateException("not registered");
    }
    requests.onCompleted();
  }

  private static long pct(long[] sorted, int p) {
    if (sorted.length == 0) {
      return 0;
    }
    int rank = (int) Math.ceil(p / 100.0 * sorted.length);
    return sorted[Math.max(0, rank - 1)];
  }

  static double median(double[] values) {
    double[] v = values.clone();
    Arrays.sort(v);
    return v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
  }
}
