package dev.tether.manager.hardening;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.tether.common.testing.TokenLedger;
import dev.tether.common.token.DelegateToken;
import dev.tether.delegate.connect.HandshakeClient;
import dev.tether.delegate.connect.StreamClient;
import dev.tether.manager.server.ManagerSettings;
import dev.tether.manager.server.TransportLimits;
import dev.tether.manager.testing.RawHttp2;
import dev.tether.manager.token.CreatedAccount;
import dev.tether.proto.delegate.v1.Register;
import io.grpc.ManagedChannel;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Abuse below gRPC, by a client that speaks HTTP/2 frame by frame or only opens sockets, against a
 * real manager: rapid reset, more streams than the connection allows, more connections than one
 * address may hold. A connected delegate keeps heartbeating throughout.
 */
class Http2AbuseTest {

  private static final String HANDSHAKE = "/tether.delegate.v1.DelegateAuth/Handshake";

  @TempDir Path dataDir;

  /**
   * Found by the second security review: 109 600 HEADERS + RST_STREAM pairs on one connection in
   * 20 s drew no GOAWAY, and a connected delegate's heartbeat p95 rose tenfold (HTTP/2 rapid reset,
   * CVE-2023-44487). Now the connection is closed with GOAWAY after the configured number of resets.
   */
  @Test
  void rapidReset_getsGoawayAndAConnectedDelegateKeepsHeartbeating() throws Exception {
    try (NettyManager manager = new NettyManager(dataDir, ManagerSettings.defaults());
        Bystander bystander = Bystander.connect(manager)) {
      int pairs = 0;
      try (RawHttp2 attacker = RawHttp2.connect(manager.port(), "127.0.0.2")) {
        try {
          for (int stream = 1; pairs < 20_000 && !attacker.isClosedByServer(); stream += 2, pairs++) {
            attacker.open(stream, HANDSHAKE);
            attacker.reset(stream);
            if (pairs % 50 == 49) {
              attacker.flush();
            }
          }
          attacker.flush();
        } catch (java.io.IOException closedUnderUs) {
          // the server closed the connection while the attacker was still writing
        }
        int sentPairs = pairs;
        await().atMost(Duration.ofSeconds(30)).until(attacker::isClosedByServer);
        System.out.printf("rapid reset: the server closed the connection after %d HEADERS+RST_STREAM pairs were"
            + " written (limit %d resets per %d s); GOAWAY seen: %s%n", sentPairs,
            TransportLimits.defaults().maxRstFrames(), TransportLimits.defaults().rstWindowSeconds(),
            attacker.receivedGoaway());
        assertThat(attacker.receivedGoaway()).as("GOAWAY from the server").isTrue();
        assertThat(sentPairs).as("pairs written before the server hung up").isLessThan(20_000);
      }
      bystander.heartbeatIsAcknowledged();
    }
  }

  /** More concurrent streams than the connection allows are refused by the server, not queued. */
  @Test
  void streamsBeyondTheConnectionsLimit_areRefused() throws Exception {
    ManagerSettings settings = ManagerSettings.defaults()
        .withTransport(TransportLimits.defaults().withMaxConcurrentCallsPerConnection(8));
    try (NettyManager manager = new NettyManager(dataDir, settings);
        Bystander bystander = Bystander.connect(manager);
        RawHttp2 attacker = RawHttp2.connect(manager.port(), "127.0.0.3")) {
      for (int i = 0; i < 20; i++) {
        attacker.open(1 + 2 * i, HANDSHAKE);
      }
      attacker.flush();
      await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> assertThat(attacker.received().stream()
          .filter(f -> f.type() == RawHttp2.RST_STREAM && f.errorCode() == RawHttp2.REFUSED_STREAM).count())
          .as("streams refused with REFUSED_STREAM").isEqualTo(12));
      bystander.heartbeatIsAcknowledged();
    }
  }

  /**
   * Found by the second security review: about 19 800 idle connections from one address were
   * accepted, near the process's limit of open files. Now one address holds at most the configured
   * number; a connection over it is closed as it is accepted, and other addresses are unaffected.
   */
  @Test
  void connectionsFromOneAddress_areCappedAndOtherAddressesAreUnaffected() throws Exception {
    ManagerSettings settings = ManagerSettings.defaults()
        .withTransport(TransportLimits.defaults().withMaxConnectionsPerAddress(5));
    List<Socket> held = new ArrayList<>();
    try (NettyManager manager = new NettyManager(dataDir, settings);
        Bystander bystander = Bystander.connect(manager)) {
      for (int i = 0; i < 5; i++) {
        Socket socket = socketFrom("127.0.0.4", manager.port());
        held.add(socket);
        assertThat(tlsHandshakeSucceeds(socket)).as("connection %d from one address", i + 1).isTrue();
      }
      try (Socket sixth = socketFrom("127.0.0.4", manager.port())) {
        assertThat(tlsHandshakeSucceeds(sixth)).as("the sixth connection from one address").isFalse();
      }
      // another address is not affected, and the bystander's connection neither
      ManagedChannel other = manager.channelFrom("127.0.0.5");
      assertThat(new HandshakeClient(Duration.ofSeconds(10)).handshake(other, bystander.accountId,
          bystander.token, "other").tokenPublicId()).isEqualTo(bystander.token.publicId());
      other.shutdownNow();
      bystander.heartbeatIsAcknowledged();
      // a slot frees when a connection closes
      held.remove(0).close();
      await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> {
        try (Socket again = socketFrom("127.0.0.4", manager.port())) {
          assertThat(tlsHandshakeSucceeds(again)).isTrue();
        }
      });
    } finally {
      for (Socket s : held) {
        s.close();
      }
    }
  }

  /**
   * Whether the server completes a TLS handshake on {@code socket}: it does on an admitted
   * connection; one refused on accept is closed, so the handshake fails at once (long before the
   * server's own TLS deadline).
   */
  private static boolean tlsHandshakeSucceeds(Socket socket) throws Exception {
    javax.net.ssl.SSLContext context = javax.net.ssl.SSLContext.getInstance("TLS");
    context.init(null, new javax.net.ssl.TrustManager[] {new javax.net.ssl.X509TrustManager() {
      @Override
      public void checkClientTrusted(java.security.cert.X509Certificate[] chain, String authType) { }

      @Override
      public void checkServerTrusted(java.security.cert.X509Certificate[] chain, String authType) { }

      @Override
      public java.security.cert.X509Certificate[] getAcceptedIssuers() {
        return new java.security.cert.X509Certificate[0];
      }
    }}, null);
    socket.setSoTimeout(60_000);
    javax.net.ssl.SSLSocket tls = (javax.net.ssl.SSLSocket) context.getSocketFactory()
        .createSocket(socket, "127.0.0.1", socket.getPort(), false);
    javax.net.ssl.SSLParameters params = tls.getSSLParameters();
    params.setApplicationProtocols(new String[] {"h2"}); // without h2, gRPC closes the connection after TLS
    tls.setSSLParameters(params);
    try {
      tls.startHandshake();
      return true;
    } catch (java.io.IOException refused) {
      return false;
    }
  }

  /**
   * Found by the attacker's review: one address held about 99 000 Health/Watch streams (100 on
   * each of 1 000 connections), 156 MB of heap, without any credential.
   */
  @Test
  void openCallsThatNeedNoCredential_areCappedPerAddress() throws Exception {
    ManagerSettings settings = ManagerSettings.defaults()
        .withTransport(TransportLimits.defaults().withMaxOpenCallsPerAddress(10));
    try (NettyManager manager = new NettyManager(dataDir, settings);
        Bystander bystander = Bystander.connect(manager)) {
      List<ManagedChannel> channels = new ArrayList<>();
      java.util.Map<io.grpc.Status.Code, java.util.concurrent.atomic.AtomicInteger> ends = new java.util.concurrent.ConcurrentHashMap<>();
      java.util.concurrent.atomic.AtomicInteger watching = new java.util.concurrent.atomic.AtomicInteger();
      for (int c = 0; c < 3; c++) {
        ManagedChannel channel = manager.channelFrom("127.0.0.8");
        channels.add(channel);
        for (int i = 0; i < 10; i++) {
          io.grpc.health.v1.HealthGrpc.newStub(channel).watch(io.grpc.health.v1.HealthCheckRequest.getDefaultInstance(),
              new io.grpc.stub.StreamObserver<>() {
                private boolean counted;

                @Override
                public void onNext(io.grpc.health.v1.HealthCheckResponse value) {
                  if (!counted) {
                    counted = true;
                    watching.incrementAndGet();
                  }
                }

                @Override
                public void onError(Throwable t) {
                  ends.computeIfAbsent(io.grpc.Status.fromThrowable(t).getCode(),
                      k -> new java.util.concurrent.atomic.AtomicInteger()).incrementAndGet();
                }

                @Override
                public void onCompleted() { }
              });
        }
      }
      await().atMost(Duration.ofSeconds(30)).until(() -> watching.get() + ends.values().stream()
          .mapToInt(java.util.concurrent.atomic.AtomicInteger::get).sum() == 30);
      assertThat(watching.get()).as("Watch calls held by one address").isEqualTo(10);
      assertThat(ends.get(io.grpc.Status.Code.RESOURCE_EXHAUSTED)).hasValue(20);

      ManagedChannel other = manager.channelFrom("127.0.0.9");
      assertThat(io.grpc.health.v1.HealthGrpc.newBlockingStub(other).withDeadlineAfter(10, TimeUnit.SECONDS)
          .check(io.grpc.health.v1.HealthCheckRequest.getDefaultInstance()).getStatus())
          .isEqualTo(io.grpc.health.v1.HealthCheckResponse.ServingStatus.SERVING);
      bystander.heartbeatIsAcknowledged();
      other.shutdownNow();
      channels.forEach(ManagedChannel::shutdownNow);
    }
  }

  private static Socket socketFrom(String source, int port) throws Exception {
    Socket socket = new Socket();
    socket.bind(new InetSocketAddress(source, 0));
    socket.connect(new InetSocketAddress("127.0.0.1", port), 10_000);
    return socket;
  }

  /** A delegate connected from 127.0.0.1 whose heartbeats must keep being acknowledged. */
  private static final class Bystander implements AutoCloseable {
    final String accountId;
    final DelegateToken token;
    final ManagedChannel channel;
    final StreamClient stream;

    private Bystander(String accountId, DelegateToken token, ManagedChannel channel, StreamClient stream) {
      this.accountId = accountId;
      this.token = token;
      this.channel = channel;
      this.stream = stream;
    }

    static Bystander connect(NettyManager manager) throws Exception {
      CreatedAccount account = manager.server.manager().tokens().createAccount("acme", "test");
      DelegateToken token = TokenLedger.record(account.defaultToken().value());
      ManagedChannel channel = manager.channelFrom("127.0.0.1");
      StreamClient stream = StreamClient.open(channel,
          new HandshakeClient(Duration.ofSeconds(10)).handshake(channel, account.account().id(), token, "bystander"),
          Register.newBuilder().setHostname("bystander-host").build());
      stream.registered().get(10, TimeUnit.SECONDS);
      return new Bystander(account.account().id(), token, channel, stream);
    }

    void heartbeatIsAcknowledged() {
      long seq = stream.heartbeat();
      await().atMost(Duration.ofSeconds(10)).until(() -> stream.lastAckSequence() >= seq);
      assertThat(stream.closed()).isNotDone();
    }

    @Override
    public void close() {
      stream.close();
      channel.shutdownNow();
    }
  }
}
