package dev.tether.bench;

import dev.tether.common.token.DelegateToken;
import dev.tether.delegate.connect.EstablishedSession;
import dev.tether.delegate.connect.HandshakeClient;
import dev.tether.delegate.connect.SessionCredentials;
import dev.tether.proto.delegate.v1.DelegateMessage;
import dev.tether.proto.delegate.v1.DelegateStreamGrpc;
import dev.tether.proto.delegate.v1.ManagerMessage;
import dev.tether.proto.delegate.v1.Register;
import io.grpc.CallCredentials;
import io.grpc.ChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.TlsChannelCredentials;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.netty.channel.EventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.MultiThreadIoEventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.nio.NioIoHandler;
import io.grpc.netty.shaded.io.netty.channel.socket.nio.NioSocketChannel;
import io.grpc.stub.StreamObserver;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import org.HdrHistogram.Recorder;

/**
 * The load generator of the {@code handshakes} scenario, in a process of its own: THREADS threads
 * open new delegates one after another, each on a new TLS connection from a rotating 127.0.1.x
 * source address, up to {@code Registered}; against {@code tether} and {@code protocol} (the
 * protocol's floor) with the mutual handshake and the signed stream, against {@code baseline} bare.
 *
 * <p>Command on stdin: {@code measure SECONDS}, answered with {@code opens}, {@code errors},
 * {@code seconds} (wall time of the round, until the last open in flight ended) and
 * {@code histogram} (each open's latency in microseconds).
 */
public final class HandshakeWorker {

  private final int port;
  private final int threads;
  private final ChannelCredentials credentials;
  private final String accountId;
  private final DelegateToken token;
  private final EventLoopGroup loops = new MultiThreadIoEventLoopGroup(2, NioIoHandler.newFactory());
  private final AtomicInteger source = new AtomicInteger();

  private HandshakeWorker(String kind, int port, Path dir, int threads) throws Exception {
    this.port = port;
    this.threads = threads;
    this.credentials = TlsChannelCredentials.newBuilder().trustManager(dir.resolve("tls/manager.crt").toFile()).build();
    // the protocol's floor speaks the manager's wire: the same handshake and signed stream
    if (!kind.equals("baseline")) {
      accountId = BenchServer.account(dir);
      token = BenchServer.token(dir);
    } else {
      accountId = null;
      token = null;
    }
  }

  public static void main(String[] args) throws Exception {
    if (args.length != 4 || !List.of("tether", "baseline", "protocol").contains(args[0]) || !args[3].matches("[1-9][0-9]{0,3}")) {
      System.err.println("usage: HandshakeWorker tether|baseline|protocol PORT DATA_DIR THREADS (1 to 9999)");
      System.exit(2);
    }
    HandshakeWorker w = new HandshakeWorker(args[0], Integer.parseInt(args[1]), Path.of(args[2]),
        Integer.parseInt(args[3]));
    BenchServer.answer(words -> switch (words[0]) {
      case "measure" -> w.measure(Duration.ofMillis((long) (Double.parseDouble(words[1]) * 1000)));
      default -> throw new IllegalArgumentException("unknown command '" + words[0] + "' (expected measure SECONDS)");
    });
    w.loops.shutdownGracefully(0, 1, TimeUnit.SECONDS);
    System.exit(0);
  }

  /** Opens delegates from every thread for {@code duration}; answers the counts and the latency histogram. */
  private String measure(Duration duration) throws Exception {
    Recorder latencies = new Recorder(3);
    LongAdder errors = new LongAdder();
    long deadline = System.nanoTime() + duration.toNanos();
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    long started = System.nanoTime();
    try {
      List<Future<Object>> running = new java.util.ArrayList<>();
      for (int t = 0; t < threads; t++) {
        running.add(pool.submit(() -> {
          HandshakeClient handshakes = new HandshakeClient(Duration.ofSeconds(10));
          while (System.nanoTime() < deadline) {
            long t0 = System.nanoTime();
            if (openOnce(handshakes)) {
              latencies.recordValue((System.nanoTime() - t0) / 1000);
            } else {
              errors.increment();
            }
          }
          return null;
        }));
      }
      for (Future<Object> f : running) {
        f.get(duration.toSeconds() + 60, TimeUnit.SECONDS);
      }
    } finally {
      pool.shutdownNow();
    }
    double seconds = (System.nanoTime() - started) / 1e9;
    var h = latencies.getIntervalHistogram();
    return String.format(Locale.ROOT, "opens=%d errors=%d seconds=%.3f histogram=%s", h.getTotalCount(), errors.sum(),
        seconds, Histograms.encode(h));
  }

  /** One new delegate on a new connection, up to Registered; false if it failed. */
  private boolean openOnce(HandshakeClient handshakes) {
    // spread the connections over 127.0.1.1 .. 127.0.1.250 to stay clear of per-address port limits
    String from = "127.0.1." + (1 + Math.floorMod(source.getAndIncrement(), 250));
    ManagedChannel channel = NettyChannelBuilder.forAddress("127.0.0.1", port, credentials)
        .eventLoopGroup(loops).channelType(NioSocketChannel.class)
        .localSocketPicker(new NettyChannelBuilder.LocalSocketPicker() {
          @Override
          public SocketAddress createSocketAddress(SocketAddress remote, io.grpc.Attributes attrs) {
            return new InetSocketAddress(from, 0);
          }
        })
        .build();
    try {
      CallCredentials session = null;
      if (token != null) {
        EstablishedSession s = handshakes.handshake(channel, accountId, token, "bench");
        session = new SessionCredentials(s);
      }
      registerOnce(channel, session);
      return true;
    } catch (Exception e) {
      return false;
    } finally {
      channel.shutdownNow();
    }
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
}
