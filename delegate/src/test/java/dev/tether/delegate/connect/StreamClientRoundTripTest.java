package dev.tether.delegate.connect;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tether.common.testing.TokenLedger;
import dev.tether.common.token.DelegateToken;
import dev.tether.delegate.testing.FakeManager;
import dev.tether.proto.delegate.v1.Register;
import io.grpc.ManagedChannel;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Each acknowledgement is reported with the time since its heartbeat went out, once someone listens. */
class StreamClientRoundTripTest {

  private record Acked(long sequence, long roundTripNanos) { }

  @Test
  void acknowledgements_areReportedInOrderWithTheirRoundTrip_fromTheFirstHeartbeatSentWhileListening() throws Exception {
    DelegateToken token = TokenLedger.record(DelegateToken.generate());
    try (FakeManager manager = FakeManager.knowing(token)) {
      ManagedChannel channel = Channels.open(manager.endpoint(), null);
      try {
        EstablishedSession session = new HandshakeClient(Duration.ofSeconds(10))
            .handshake(channel, "abcdefghijklmnop", token, "builder-1");
        StreamClient stream = StreamClient.open(channel, session, Register.newBuilder().setHostname("h")
            .setDelegateType("SHELL_SCRIPT").setVersion("test").build());
        stream.registered().get(10, TimeUnit.SECONDS);
        BlockingQueue<Acked> acked = new LinkedBlockingQueue<>();

        // sent before anyone listened: its send time was not kept
        assertThat(stream.heartbeat()).isEqualTo(1);
        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> stream.acks() == 1);
        stream.onRoundTrip((sequence, nanos) -> acked.add(new Acked(sequence, nanos)));
        stream.heartbeat();
        stream.heartbeat();
        stream.heartbeat();

        List<Acked> seen = List.of(next(acked), next(acked), next(acked));
        assertThat(seen).extracting(Acked::sequence).containsExactly(2L, 3L, 4L);
        assertThat(seen).allSatisfy(a -> assertThat(a.roundTripNanos()).isPositive());
        stream.close();
      } finally {
        channel.shutdownNow();
      }
    }
  }

  private static Acked next(BlockingQueue<Acked> queue) throws InterruptedException {
    Acked a = queue.poll(10, TimeUnit.SECONDS);
    assertThat(a).as("an acknowledgement within 10 s").isNotNull();
    return a;
  }
}
