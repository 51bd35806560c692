package dev.tether.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tether.common.token.DelegateToken;
import dev.tether.delegate.connect.EstablishedSession;
import dev.tether.delegate.connect.HandshakeClient;
import dev.tether.delegate.connect.HandshakeException;
import dev.tether.delegate.connect.SessionCredentials;
import dev.tether.delegate.connect.StreamClient;
import dev.tether.manager.tls.TlsMaterial;
import dev.tether.proto.delegate.v1.Register;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.TlsChannelCredentials;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The protocol's floor speaks the manager's wire as the real delegate's code does (handshake,
 * then the signed stream up to Registered), and holds to the protocol's checks: a token it does
 * not know gets no session, a stream call needs a session and a new sequence under a right MAC.
 * Otherwise its figures would not be a floor of the manager's.
 */
class ProtocolFloorTest {

  private static final String ACCOUNT = ProtocolFloor.ACCOUNT;

  @TempDir Path dir;
  private final DelegateToken token = DelegateToken.generate();
  private final HandshakeClient handshakes = new HandshakeClient(Duration.ofSeconds(10));
  private ProtocolFloor floor;
  private ManagedChannel channel;

  @BeforeEach
  void start() throws Exception {
    TlsMaterial tls = TlsMaterial.loadOrGenerate(dir.resolve("tls"), List.of());
    floor = new ProtocolFloor(tls, 0, ACCOUNT, token.credential(ACCOUNT));
    channel = NettyChannelBuilder.forAddress("127.0.0.1", floor.port(),
        TlsChannelCredentials.newBuilder().trustManager(tls.certificate().toFile()).build()).build();
  }

  @AfterEach
  void stop() throws Exception {
    channel.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
    floor.close();
  }

  @Test
  void theDelegatesOwnCode_handshakesAndRegisters() throws Exception {
    EstablishedSession session = handshakes.handshake(channel, ACCOUNT, token, "floor-1");

    try (StreamClient stream = StreamClient.open(channel, new SessionCredentials(session),
        Register.newBuilder().setHostname("floor-1").build())) {
      assertThat(stream.registered().get(30, TimeUnit.SECONDS).getHeartbeatIntervalMs()).isEqualTo(10_000);
      stream.heartbeat();
      org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> stream.acks() == 1);
    }
    assertThat(session.heartbeatInterval()).isEqualTo(Duration.ofSeconds(10));
  }

  @Test
  void aTokenItDoesNotKnow_getsNoSession() {
    DelegateToken other = DelegateToken.generate();

    assertThatThrownBy(() -> handshakes.handshake(channel, ACCOUNT, other, "floor-2"))
        .isInstanceOf(HandshakeException.class);
  }

  @Test
  void aStreamWithoutASession_isRefused() throws Exception {
    try (StreamClient stream = StreamClient.open(channel, (io.grpc.CallCredentials) null,
        Register.newBuilder().setHostname("floor-3").build())) {
      Status closed = stream.closed().get(30, TimeUnit.SECONDS);

      assertThat(closed.getCode()).isEqualTo(Status.Code.UNAUTHENTICATED);
      assertThat(stream.registered()).isNotCompleted();
    }
  }

  @Test
  void aReplayedSequence_isRefused_whileTheFirstCallStillRuns() throws Exception {
    EstablishedSession session = handshakes.handshake(channel, ACCOUNT, token, "floor-4");
    try (StreamClient first = StreamClient.open(channel, new SessionCredentials(session),
        Register.newBuilder().setHostname("floor-4").build())) {
      first.registered().get(30, TimeUnit.SECONDS);

      // a second credentials object starts the sequence at 1 again: the same signed metadata
      try (StreamClient replay = StreamClient.open(channel, new SessionCredentials(session),
          Register.newBuilder().setHostname("floor-4").build())) {
        assertThat(replay.closed().get(30, TimeUnit.SECONDS).getCode()).isEqualTo(Status.Code.UNAUTHENTICATED);
      }
      assertThat(first.closed()).isNotDone();
    }
  }

  @Test
  void handshakeWorker_opensDelegatesOnTheFloorInAnotherProcess() throws Exception {
    try (Target protocol = Target.start("protocol", dir.resolve("targets"), false)) {
      Child load = protocol.startHandshakeWorker(2);

      Map<String, String> answer = load.call("measure 1", Duration.ofMinutes(2));

      assertThat(Long.parseLong(answer.get("opens"))).isPositive();
      assertThat(answer.get("errors")).isEqualTo("0");
    }
  }
}
