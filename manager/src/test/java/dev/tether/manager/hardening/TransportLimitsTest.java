package dev.tether.manager.hardening;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tether.common.testing.TokenLedger;
import dev.tether.common.token.DelegateToken;
import dev.tether.delegate.connect.HandshakeClient;
import dev.tether.delegate.connect.StreamClient;
import dev.tether.manager.server.ManagerSettings;
import dev.tether.manager.testing.RawHandshake;
import dev.tether.manager.token.CreatedAccount;
import dev.tether.proto.delegate.v1.Begin;
import dev.tether.proto.delegate.v1.Register;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.stub.MetadataUtils;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Oversized messages and metadata, and connections that open and go quiet, against a real server. */
class TransportLimitsTest {

  @TempDir Path dataDir;

  @Test
  void oversizedMessageAndMetadata_areRefusedAndOtherStreamsCarryOn() throws Exception {
    try (NettyManager manager = new NettyManager(dataDir, ManagerSettings.defaults())) {
      CreatedAccount account = manager.server.manager().tokens().createAccount("acme", "test");
      DelegateToken token = TokenLedger.record(account.defaultToken().value());
      ManagedChannel channel = manager.channelFrom("127.0.0.1");
      StreamClient bystander = StreamClient.open(channel,
          new HandshakeClient(Duration.ofSeconds(10)).handshake(channel, account.account().id(), token, "bystander"),
          Register.newBuilder().setHostname("h").build());
      bystander.registered().get(10, TimeUnit.SECONDS);

      Begin huge = Begin.newBuilder(RawHandshake.begin(account.account().id(), token.publicId()))
          .setDelegateName("x".repeat(100_000)).build();
      RawHandshake.Exchange big = RawHandshake.replay(channel,
          java.util.List.of(dev.tether.proto.delegate.v1.HandshakeRequest.newBuilder().setBegin(huge).build()));
      assertThat(big.status.getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);

      Metadata fat = new Metadata();
      fat.put(Metadata.Key.of("x-padding", Metadata.ASCII_STRING_MARSHALLER), "p".repeat(20_000));
      assertThatThrownBy(() -> HealthGrpc.newBlockingStub(channel)
          .withInterceptors(MetadataUtils.newAttachHeadersInterceptor(fat))
          .withDeadlineAfter(10, TimeUnit.SECONDS).check(HealthCheckRequest.getDefaultInstance()))
          .isInstanceOf(StatusRuntimeException.class);

      long seq = bystander.heartbeat();
      org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> bystander.lastAckSequence() >= seq);
      assertThat(bystander.closed()).isNotDone();
      bystander.close();
      channel.shutdownNow();
    }
  }

  @Test
  void aConnectionThatNeverCompletesTls_isDroppedAtTheHandshakeDeadline() throws Exception {
    ManagerSettings settings = ManagerSettings.defaults().withHandshakeTimeout(Duration.ofSeconds(1));
    try (NettyManager manager = new NettyManager(dataDir, settings);
        Socket quiet = new Socket()) {
      quiet.connect(new InetSocketAddress("127.0.0.1", manager.port()), 5_000);
      quiet.setSoTimeout(15_000);
      long started = System.nanoTime();
      InputStream in = quiet.getInputStream();

      int read = in.read();

      double seconds = (System.nanoTime() - started) / 1e9;
      assertThat(read).as("the server closed the connection").isEqualTo(-1);
      assertThat(seconds).isLessThan(10);
      System.out.printf("a silent TCP connection was dropped after %.2f s (handshake timeout 1 s)%n", seconds);
    }
  }
}
