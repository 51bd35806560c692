package dev.tether.bench;

import dev.tether.common.token.DelegateToken;
import dev.tether.delegate.connect.HandshakeClient;
import dev.tether.delegate.connect.SessionCredentials;
import dev.tether.delegate.connect.StreamClient;
import dev.tether.manager.admin.AdminCredentials;
import dev.tether.proto.admin.v1.CreateTokenRequest;
import dev.tether.proto.admin.v1.CreateTokenResponse;
import dev.tether.proto.admin.v1.ReplicaRevocation;
import dev.tether.proto.admin.v1.RevokeTokenRequest;
import dev.tether.proto.admin.v1.RevokeTokenResponse;
import dev.tether.proto.admin.v1.TokenAdminGrpc;
import dev.tether.proto.delegate.v1.Register;
import io.grpc.ChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.TlsChannelCredentials;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.netty.channel.EventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.MultiThreadIoEventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.nio.NioIoHandler;
import io.grpc.netty.shaded.io.netty.channel.socket.nio.NioSocketChannel;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Collectors;

/**
 * The revoking side of the {@code revocation} and {@code replica-revocation} scenarios, in a
 * process of its own: it creates a token through the admin API of one manager, holds N delegate
 * streams authenticated by it, spread evenly over one or more managers (replicas on one database)
 * and over {@value #CHANNELS} TLS connections from 127.0.3.1..250 shared among them, then revokes
 * it through that admin API the way {@code tether-manager token revoke} does, and times, on one
 * clock, the revoke call and the close of the last stream as the delegates see it.
 *
 * <p>Commands on stdin: {@code doom N} (a new token and N streams on it), {@code ping} (one
 * health check of the first manager, timed: {@code call_ms}) and {@code revoke}
 * (answers {@code call_ms}, {@code last_close_ms}, {@code streams_closed} as reported by the
 * manager, the replicas its answer lists ({@code replicas_answering}) and those among them that
 * did not confirm within its wait ({@code unconfirmed}, {@code -} for none), and
 * {@code acked_after}: heartbeats sent on the doomed streams after the revoke call returned that
 * the manager acknowledged, which must be 0; a heartbeat of each stream before the revoke must be
 * acknowledged, as the control). Between the two, the doomed streams heartbeat at
 * the interval the manager gave them, as real delegates do.
 */
public final class Revoker {

  private static final int CHANNELS = 250;
  private static final int OPENING_THREADS = 32;

  private final String accountId;
  private final AdminCredentials admin;
  /** The connections to each manager, in the order the managers were given. */
  private final List<List<ManagedChannel>> channels = new ArrayList<>();
  private final ManagedChannel adminChannel;
  /**
   * To the first manager's delegate listener, set up as the admin channel is (TLS, the same loop):
   * for {@code ping}, the round trip of a call the manager answers with no work of its own.
   */
  private final ManagedChannel pingChannel;
  private final EventLoopGroup adminLoop;
  private final HandshakeClient handshakes = new HandshakeClient(Duration.ofSeconds(30));
  private final ExecutorService opening = Executors.newFixedThreadPool(OPENING_THREADS);
  private final List<StreamClient> doomed = new ArrayList<>();
  /**
   * The registered doomed streams and when each must heartbeat next: they heartbeat at the interval
   * their Registered gave, as a real delegate does, so that opening thousands of them on a busy
   * machine does not outlast the manager's patience with the first ones (it closes a stream after 3
   * missed heartbeats). Paused, under {@link #keepAliveLock}, while a revoke is measured.
   */
  private final Map<StreamClient, Long> live = new java.util.concurrent.ConcurrentHashMap<>();
  private final Object keepAliveLock = new Object();
  private final java.util.concurrent.ScheduledExecutorService keepAlive =
      Executors.newSingleThreadScheduledExecutor();
  private String doomedName;
  private int tokens;

  /**
   * {@code dir}: the data directory of the manager whose admin API revokes (account, admin key,
   * TLS certificate); {@code managers}: each manager's delegate port and data directory (its TLS
   * certificate).
   */
  private Revoker(int adminPort, Path dir, List<Map.Entry<Integer, Path>> managers) throws Exception {
    accountId = Files.readString(dir.resolve(BenchServer.ACCOUNT_FILE)).strip();
    admin = new AdminCredentials(Files.readString(dir.resolve("admin.key")).strip());
    // the revoke call on a loop of its own: its answer is not read behind thousands of closes
    adminLoop = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    adminChannel = NettyChannelBuilder.forAddress("127.0.0.1", adminPort, trust(dir))
        .eventLoopGroup(adminLoop).channelType(NioSocketChannel.class).build();
    pingChannel = NettyChannelBuilder.forAddress("127.0.0.1", managers.get(0).getKey(), trust(managers.get(0).getValue()))
        .eventLoopGroup(adminLoop).channelType(NioSocketChannel.class).build();
    for (int m = 0; m < managers.size(); m++) {
      channels.add(new ArrayList<>());
    }
    for (int i = 0; i < CHANNELS; i++) {
      String from = "127.0.3." + (1 + i);
      Map.Entry<Integer, Path> manager = managers.get(i % managers.size());
      channels.get(i % managers.size()).add(NettyChannelBuilder.forAddress("127.0.0.1", manager.getKey(),
              trust(manager.getValue()))
          .localSocketPicker(new NettyChannelBuilder.LocalSocketPicker() {
            @Override
            public SocketAddress createSocketAddress(SocketAddress remote, io.grpc.Attributes attrs) {
              return new InetSocketAddress(from, 0);
            }
          })
          // the streams' callbacks only complete futures and count: run on the I/O thread that read
          // the frame, not handed to an executor thread per close (which cost this process more than
          // reading the closes did, on the cores the manager needs)
          .directExecutor()
          .build());
    }
  }

  private static ChannelCredentials trust(Path dir) throws java.io.IOException {
    return TlsChannelCredentials.newBuilder().trustManager(dir.resolve("tls/manager.crt").toFile()).build();
  }

  public static void main(String[] args) throws Exception {
    List<Map.Entry<Integer, Path>> managers = new ArrayList<>();
    for (int i = 2; i < args.length; i++) {
      int eq = args[i].indexOf('=');
      if (eq < 1 || !args[i].substring(0, eq).matches("[0-9]{1,5}")) {
        System.err.println("Revoker: '" + args[i] + "' is not PORT=DATA_DIR");
        System.exit(2);
      }
      managers.add(Map.entry(Integer.parseInt(args[i].substring(0, eq)), Path.of(args[i].substring(eq + 1))));
    }
    if (args.length < 3 || managers.size() > CHANNELS) {
      System.err.println("usage: Revoker ADMIN_PORT ADMIN_DATA_DIR PORT=DATA_DIR... (1 to " + CHANNELS + " managers)");
      System.exit(2);
    }
    Revoker r = new Revoker(Integer.parseInt(args[0]), Path.of(args[1]), managers);
    r.keepAlive.scheduleWithFixedDelay(r::heartbeatDue, 100, 100, TimeUnit.MILLISECONDS);
    BenchServer.answer(words -> switch (words[0]) {
      case "doom" -> r.doom(Integer.parseInt(words[1]));
      case "revoke" -> r.revoke();
      case "ping" -> r.ping();
      default -> throw new IllegalArgumentException("unknown command '" + words[0] + "'");
    });
    r.channels.forEach(list -> list.forEach(ManagedChannel::shutdownNow));
    r.adminChannel.shutdownNow();
    r.pingChannel.shutdownNow();
    r.adminLoop.shutdownGracefully(0, 1, TimeUnit.SECONDS);
    System.exit(0);
  }

  private TokenAdminGrpc.TokenAdminBlockingStub adminStub() {
    return TokenAdminGrpc.newBlockingStub(adminChannel).withCallCredentials(admin)
        .withDeadlineAfter(2, TimeUnit.MINUTES);
  }

  /** A new token and {@code n} registered streams authenticated by it, spread evenly over the managers. */
  private String doom(int n) throws Exception {
    long started = System.nanoTime();
    doomedName = "doomed-" + (tokens++);
    CreateTokenResponse created = adminStub().createToken(
        CreateTokenRequest.newBuilder().setAccountId(accountId).setName(doomedName).build());
    DelegateToken token = DelegateToken.parse("CreateTokenResponse.value", created.getValue());
    List<Future<StreamClient>> opened = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      List<ManagedChannel> onManager = channels.get(i % channels.size());
      ManagedChannel channel = onManager.get((i / channels.size()) % onManager.size());
      String name = doomedName + "-" + i;
      opened.add(opening.submit(() -> {
        StreamClient c = StreamClient.open(channel,
            new SessionCredentials(handshakes.handshake(channel, accountId, token, name)),
            Register.newBuilder().setHostname(name).build());
        long interval = TimeUnit.MILLISECONDS.toNanos(c.registered().get(60, TimeUnit.SECONDS).getHeartbeatIntervalMs());
        live.put(c, System.nanoTime() + interval);
        return c;
      }));
    }
    doomed.clear();
    for (Future<StreamClient> f : opened) {
      doomed.add(f.get(5, TimeUnit.MINUTES));
    }
    // the control for the count after the revoke: a heartbeat of each stream is acknowledged
    List<Long> control = new ArrayList<>();
    for (StreamClient c : doomed) {
      control.add(c.heartbeat());
    }
    long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(1);
    for (int i = 0; i < doomed.size(); i++) {
      StreamClient c = doomed.get(i);
      while (control.get(i) < 0 || c.lastAckSequence() < control.get(i)) {
        if (System.nanoTime() > deadline) {
          long closed = doomed.stream().filter(d -> d.closed().isDone()).count();
          throw new IllegalStateException("doomed stream " + i + " of " + n + " had its control heartbeat (sequence "
              + control.get(i) + ") not acknowledged within 1 minute (" + closed + " of the " + n + " streams closed);"
              + " see the managers' logs");
        }
        java.util.concurrent.locks.LockSupport.parkNanos(1_000_000);
      }
    }
    return "opened=" + n + " ms=" + (System.nanoTime() - started) / 1_000_000;
  }

  /**
   * One gRPC health check of the first manager, timed as the revoke call is: a unary call over TLS
   * that the manager answers without authenticating it or touching its store, so the floor, on this
   * machine at this moment, of any admin call's round trip. Answers {@code call_ms}.
   */
  private String ping() {
    long started = System.nanoTime();
    HealthCheckResponse response = HealthGrpc.newBlockingStub(pingChannel).withDeadlineAfter(1, TimeUnit.MINUTES)
        .check(HealthCheckRequest.getDefaultInstance());
    long returned = System.nanoTime();
    if (response.getStatus() != HealthCheckResponse.ServingStatus.SERVING) {
      throw new IllegalStateException("the manager's health check answered " + response.getStatus() + ", not SERVING");
    }
    return String.format(Locale.ROOT, "call_ms=%.3f", (returned - started) / 1e6);
  }

  /** Heartbeats each registered doomed stream whose interval has passed (the keep-alive task). */
  private void heartbeatDue() {
    synchronized (keepAliveLock) {
      long now = System.nanoTime();
      live.replaceAll((c, due) -> {
        if (now - due < 0) {
          return due;
        }
        c.heartbeat();
        long interval = TimeUnit.MILLISECONDS.toNanos(c.registered().join().getHeartbeatIntervalMs());
        return now + interval;
      });
    }
  }

  /**
   * Revokes the doomed token; right after the call returns, every doomed stream sends one more
   * heartbeat, and an acknowledgement of any of them counts as accepted after the revoke. The
   * keep-alive heartbeats pause from before the call until every stream is closed.
   */
  private String revoke() throws Exception {
    synchronized (keepAliveLock) {
      live.clear();
    }
    AtomicLong lastClose = new AtomicLong();
    for (StreamClient c : doomed) {
      c.closed().whenComplete((status, e) -> lastClose.accumulateAndGet(System.nanoTime(), Math::max));
    }
    long started = System.nanoTime();
    RevokeTokenResponse response = adminStub().revokeToken(
        RevokeTokenRequest.newBuilder().setAccountId(accountId).setName(doomedName).build());
    long returned = System.nanoTime();
    long[] after = new long[doomed.size()];
    for (int i = 0; i < after.length; i++) {
      after[i] = doomed.get(i).heartbeat();
    }
    for (StreamClient c : doomed) {
      c.closed().get(2, TimeUnit.MINUTES);
    }
    // acknowledgements come in order: a stream acknowledged at or past its post-revoke heartbeat accepted it
    long ackedAfter = 0;
    for (int i = 0; i < after.length; i++) {
      if (after[i] > 0 && doomed.get(i).lastAckSequence() >= after[i]) {
        ackedAfter++;
      }
    }
    // replicas the manager counted live that did not confirm within its wait, "-" for none
    String unconfirmed = response.getReplicasList().stream().filter(r -> !r.getConfirmed())
        .map(ReplicaRevocation::getReplicaId).collect(Collectors.joining(","));
    if (unconfirmed.isEmpty()) {
      unconfirmed = "-";
    }
    return String.format(Locale.ROOT, "call_ms=%.3f last_close_ms=%.3f streams_closed=%d acked_after=%d"
        + " replicas_answering=%d unconfirmed=%s", (returned - started) / 1e6, (lastClose.get() - started) / 1e6,
        response.getStreamsClosed(), ackedAfter, response.getReplicasCount(), unconfirmed);
  }
}
