package dev.tether.bench;

import dev.tether.common.token.DelegateToken;
import dev.tether.delegate.connect.HandshakeClient;
import dev.tether.delegate.connect.SessionCredentials;
import dev.tether.delegate.connect.StreamClient;
import dev.tether.manager.admin.AdminCredentials;
import dev.tether.proto.admin.v1.CreateTokenRequest;
import dev.tether.proto.admin.v1.CreateTokenResponse;
import dev.tether.proto.admin.v1.RevokeTokenRequest;
import dev.tether.proto.admin.v1.RevokeTokenResponse;
import dev.tether.proto.admin.v1.TokenAdminGrpc;
import dev.tether.proto.delegate.v1.Register;
import io.grpc.ChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.TlsChannelCredentials;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
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
import java.util.concurrent.atomic.LongAdder;

/**
 * The revoking side of the {@code revocation} and {@code replica-revocation} scenarios, in a
 * process of its own: it creates a token through the admin API of one manager, holds N delegate
 * streams authenticated by it, spread evenly over one or more managers (replicas on one database)
 * and over {@value #CHANNELS} TLS connections from 127.0.3.1..250 shared among them, then revokes
 * it through that admin API the way {@code tether-manager token revoke} does, and times, on one
 * clock, the revoke call and the close of the last stream as the delegates see it.
 *
 * <p>Commands on stdin: {@code doom N} (a new token and N streams on it) and {@code revoke}
 * (answers {@code call_ms}, {@code last_close_ms}, {@code streams_closed} as reported by the
 * manager, and {@code acked_after}: heartbeats sent on the doomed streams after the revoke call
 * returned that the manager acknowledged, which must be 0; each stream's first heartbeat, before
 * the revoke, must be acknowledged, as the control).
 */
public final class Revoker {

  private static final int CHANNELS = 250;
  private static final int OPENING_THREADS = 32;

  private final String accountId;
  private final AdminCredentials admin;
  /** The connections to each manager, in the order the managers were given. */
  private final List<List<ManagedChannel>> channels = new ArrayList<>();
  private final ManagedChannel adminChannel;
  private final HandshakeClient handshakes = new HandshakeClient(Duration.ofSeconds(30));
  private final ExecutorService opening = Executors.newFixedThreadPool(OPENING_THREADS);
  private final List<StreamClient> doomed = new ArrayList<>();
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
    adminChannel = NettyChannelBuilder.forAddress("127.0.0.1", adminPort, trust(dir)).build();
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
          }).build());
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
    BenchServer.answer(words -> switch (words[0]) {
      case "doom" -> r.doom(Integer.parseInt(words[1]));
      case "revoke" -> r.revoke();
      default -> throw new IllegalArgumentException("unknown command '" + words[0] + "'");
    });
    r.channels.forEach(list -> list.forEach(ManagedChannel::shutdownNow));
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
        c.registered().get(60, TimeUnit.SECONDS);
        return c;
      }));
    }
    doomed.clear();
    for (Future<StreamClient> f : opened) {
      doomed.add(f.get(5, TimeUnit.MINUTES));
    }
    // the control for the count after the revoke: each stream's first heartbeat is acknowledged
    for (StreamClient c : doomed) {
      c.heartbeat();
    }
    long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(1);
    for (StreamClient c : doomed) {
      while (c.lastAckSequence() < 1) {
        if (System.nanoTime() > deadline) {
          long acked = doomed.stream().filter(d -> d.lastAckSequence() >= 1).count();
          long closed = doomed.stream().filter(d -> d.closed().isDone()).count();
          throw new IllegalStateException("only " + acked + " of " + n + " doomed streams had their first heartbeat"
              + " acknowledged within 1 minute (" + closed + " of them closed); see the managers' logs");
        }
        java.util.concurrent.locks.LockSupport.parkNanos(1_000_000);
      }
    }
    return "opened=" + n + " ms=" + (System.nanoTime() - started) / 1_000_000;
  }

  /**
   * Revokes the doomed token; right after the call returns, every doomed stream sends one more
   * heartbeat, and an acknowledgement of any of them counts as accepted after the revoke.
   */
  private String revoke() throws Exception {
    AtomicLong lastClose = new AtomicLong();
    LongAdder ackedAfter = new LongAdder();
    for (StreamClient c : doomed) {
      // sequence 1 was the control; 2 is sent after the revoke call returned
      c.onAck((sequence, at) -> {
        if (sequence >= 2) {
          ackedAfter.increment();
        }
      });
      c.closed().whenComplete((status, e) -> lastClose.accumulateAndGet(System.nanoTime(), Math::max));
    }
    long started = System.nanoTime();
    RevokeTokenResponse response = adminStub().revokeToken(
        RevokeTokenRequest.newBuilder().setAccountId(accountId).setName(doomedName).build());
    long returned = System.nanoTime();
    for (StreamClient c : doomed) {
      c.heartbeat();
    }
    for (StreamClient c : doomed) {
      c.closed().get(2, TimeUnit.MINUTES);
    }
    return String.format(Locale.ROOT, "call_ms=%.3f last_close_ms=%.3f streams_closed=%d acked_after=%d",
        (returned - started) / 1e6, (lastClose.get() - started) / 1e6, response.getStreamsClosed(), ackedAfter.sum());
  }
}
