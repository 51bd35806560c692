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
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * The revoking side of the {@code revocation} scenario, in a process of its own: it creates a
 * token through the admin API, holds N delegate streams authenticated by it (over 100 TLS
 * connections from 127.0.3.1..100), then revokes it through the admin API the way
 * {@code tether-manager token revoke} does, and times, on one clock, the revoke call and the
 * close of the last stream as the delegates see it.
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
  private final List<ManagedChannel> channels = new ArrayList<>();
  private final ManagedChannel adminChannel;
  private final HandshakeClient handshakes = new HandshakeClient(Duration.ofSeconds(30));
  private final ExecutorService opening = Executors.newFixedThreadPool(OPENING_THREADS);
  private final List<StreamClient> doomed = new ArrayList<>();
  private String doomedName;
  private int tokens;

  private Revoker(int port, int adminPort, Path dir) throws Exception {
    accountId = Files.readString(dir.resolve(BenchServer.ACCOUNT_FILE)).strip();
    admin = new AdminCredentials(Files.readString(dir.resolve("admin.key")).strip());
    ChannelCredentials tls = TlsChannelCredentials.newBuilder().trustManager(dir.resolve("tls/manager.crt").toFile()).build();
    adminChannel = NettyChannelBuilder.forAddress("127.0.0.1", adminPort, tls).build();
    for (int i = 0; i < CHANNELS; i++) {
      String from = "127.0.3." + (1 + i);
      channels.add(NettyChannelBuilder.forAddress("127.0.0.1", port, tls)
          .localSocketPicker(new NettyChannelBuilder.LocalSocketPicker() {
            @Override
            public SocketAddress createSocketAddress(SocketAddress remote, io.grpc.Attributes attrs) {
              return new InetSocketAddress(from, 0);
            }
          }).build());
    }
  }

  public static void main(String[] args) throws Exception {
    if (args.length != 3) {
      System.err.println("usage: Revoker PORT ADMIN_PORT DATA_DIR");
      System.exit(2);
    }
    Revoker r = new Revoker(Integer.parseInt(args[0]), Integer.parseInt(args[1]), Path.of(args[2]));
    BenchServer.answer(words -> switch (words[0]) {
      case "doom" -> r.doom(Integer.parseInt(words[1]));
      case "revoke" -> r.revoke();
      default -> throw new IllegalArgumentException("unknown command '" + words[0] + "'");
    });
    r.channels.forEach(ManagedChannel::shutdownNow);
    System.exit(0);
  }

  private TokenAdminGrpc.TokenAdminBlockingStub adminStub() {
    return TokenAdminGrpc.newBlockingStub(adminChannel).withCallCredentials(admin)
        .withDeadlineAfter(2, TimeUnit.MINUTES);
  }

  /** A new token and {@code n} registered streams authenticated by it. */
  private String doom(int n) throws Exception {
    long started = System.nanoTime();
    doomedName = "doomed-" + (tokens++);
    CreateTokenResponse created = adminStub().createToken(
        CreateTokenRequest.newBuilder().setAccountId(accountId).setName(doomedName).build());
    DelegateToken token = DelegateToken.parse("CreateTokenResponse.value", created.getValue());
    List<Future<StreamClient>> opened = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      ManagedChannel channel = channels.get(i % CHANNELS);
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
          throw new IllegalStateException("a doomed stream's first heartbeat was not acknowledged within 1 minute");
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
