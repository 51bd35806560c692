package dev.tether.manager.hardening;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.tether.common.testing.TokenLedger;
import dev.tether.common.token.DelegateToken;
import dev.tether.delegate.connect.EstablishedSession;
import dev.tether.delegate.connect.HandshakeClient;
import dev.tether.delegate.connect.SessionCredentials;
import dev.tether.delegate.connect.StreamClient;
import dev.tether.manager.server.ManagerSettings;
import dev.tether.manager.token.CreatedAccount;
import dev.tether.proto.delegate.v1.DelegateMessage;
import dev.tether.proto.delegate.v1.DelegateStreamGrpc;
import dev.tether.proto.delegate.v1.Heartbeat;
import dev.tether.proto.delegate.v1.ManagerMessage;
import dev.tether.proto.delegate.v1.Register;
import io.grpc.CallOptions;
import io.grpc.ClientCall;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Status;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A delegate that sends heartbeats and never reads the acknowledgements: the manager stops and
 * closes its stream instead of holding the unread answers in memory, and other delegates carry on.
 */
class SlowReaderTest {

  @TempDir Path dataDir;

  /**
   * Found by the attacker's review of the second security round: one stream that never read its
   * acknowledgements filled a 256 MB heap in about 40 s, and the manager died of it.
   */
  @Test
  void aDelegateThatNeverReads_isCutAndOthersCarryOn() throws Exception {
    try (NettyManager manager = new NettyManager(dataDir, ManagerSettings.defaults())) {
      CreatedAccount account = manager.server.manager().tokens().createAccount("acme", "test");
      String accountId = account.account().id();
      DelegateToken token = TokenLedger.record(account.defaultToken().value());
      ManagedChannel bystanderChannel = manager.channelFrom("127.0.0.1");
      HandshakeClient handshakes = new HandshakeClient(Duration.ofSeconds(10));
      StreamClient bystander = StreamClient.open(bystanderChannel,
          handshakes.handshake(bystanderChannel, accountId, token, "bystander"),
          Register.newBuilder().setHostname("bystander-host").build());
      bystander.registered().get(10, TimeUnit.SECONDS);

      ManagedChannel channel = manager.channelFrom("127.0.0.2");
      EstablishedSession session = handshakes.handshake(channel, accountId, token, "never-reads");
      ClientCall<DelegateMessage, ManagerMessage> call = channel.newCall(DelegateStreamGrpc.getConnectMethod(),
          CallOptions.DEFAULT.withCallCredentials(new SessionCredentials(session)));
      java.util.concurrent.atomic.AtomicInteger received = new java.util.concurrent.atomic.AtomicInteger();
      java.util.concurrent.CompletableFuture<Status> closed = new java.util.concurrent.CompletableFuture<>();
      call.start(new ClientCall.Listener<>() {
        @Override
        public void onMessage(ManagerMessage message) {
          received.incrementAndGet();
        }

        @Override
        public void onClose(Status status, Metadata trailers) {
          closed.complete(status);
        }
      }, new Metadata());
      // Registered is read; no acknowledgement is: once the client's window (1 MiB) is full, every
      // acknowledgement the manager still sends stays in the manager's memory
      call.request(1);
      call.sendMessage(DelegateMessage.newBuilder().setRegister(Register.newBuilder().setHostname("slow-host")).build());
      await().atMost(Duration.ofSeconds(20)).until(() -> received.get() == 1);

      int sent = 0;
      while (sent < 200_000) {
        if (call.isReady()) {
          call.sendMessage(DelegateMessage.newBuilder()
              .setHeartbeat(Heartbeat.newBuilder().setSequence(++sent).setSentAtUnixMs(System.currentTimeMillis())).build());
        } else {
          await().atMost(Duration.ofSeconds(30)).until(call::isReady);
        }
        if (sent % 10_000 == 0) {
          bystander.heartbeat();
        }
      }
      // now read everything the manager held for this client
      call.request(Integer.MAX_VALUE);
      Status status = closed.get(60, TimeUnit.SECONDS);
      System.out.printf("%d heartbeats sent; %d acknowledgements were queued for the client that did not read,"
          + " then the stream was closed: %s%n", sent, received.get() - 1, status);
      assertThat(status.getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
      assertThat(status.getDescription()).startsWith("delegate does not read its stream");
      assertThat(received.get() - 1).as("acknowledgements held for it").isLessThan(sent / 2);
      channel.shutdownNow();

      long seq = bystander.heartbeat();
      await().atMost(Duration.ofSeconds(10)).until(() -> bystander.lastAckSequence() >= seq);
      assertThat(bystander.closed()).isNotDone();
      bystander.close();
      bystanderChannel.shutdownNow();
    }
  }
}
