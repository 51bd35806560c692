package dev.tether.manager.hardening;

import dev.tether.manager.testing.EndStatus;
import static org.assertj.core.api.Assertions.assertThat;

import dev.tether.common.handshake.HandshakeCrypto;
import dev.tether.common.testing.TokenLedger;
import dev.tether.common.token.DelegateToken;
import dev.tether.delegate.connect.HandshakeClient;
import dev.tether.delegate.connect.SessionCredentials;
import dev.tether.manager.server.ManagerSettings;
import dev.tether.manager.testing.RawHandshake;
import dev.tether.manager.token.CreatedAccount;
import dev.tether.proto.delegate.v1.DelegateMessage;
import dev.tether.proto.delegate.v1.DelegateStreamGrpc;
import dev.tether.proto.delegate.v1.ManagerMessage;
import dev.tether.proto.delegate.v1.Register;
import io.grpc.CallCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.stub.MetadataUtils;
import io.grpc.stub.StreamObserver;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.CertificateFactory;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Recorded handshakes and recorded call credentials, replayed on the same and on another TLS connection. */
class ReplayTest {

  @TempDir Path dataDir;

  @Test
  void recordedHandshakeAndCallMetadata_areRefusedWhenReplayedOnAnyConnection() throws Exception {
    try (NettyManager manager = new NettyManager(dataDir, ManagerSettings.defaults())) {
      CreatedAccount account = manager.server.manager().tokens().createAccount("acme", "test");
      String accountId = account.account().id();
      DelegateToken token = TokenLedger.record(account.defaultToken().value());
      byte[] binding;
      try (InputStream in = Files.newInputStream(dataDir.resolve("tls/manager.crt"))) {
        binding = HandshakeCrypto.channelBinding(CertificateFactory.getInstance("X.509").generateCertificate(in).getEncoded());
      }
      ManagedChannel first = manager.channelFrom("127.0.0.1");
      ManagedChannel second = manager.channelFrom("127.0.0.4");

      RawHandshake.Exchange genuine = RawHandshake.run(first, RawHandshake.begin(accountId, token.publicId()), token, false, binding);
      assertThat(genuine.accepted).as("a correct TLS-bound handshake is accepted").isTrue();
      for (ManagedChannel channel : new ManagedChannel[] {first, second}) {
        RawHandshake.Exchange replayed = RawHandshake.replay(channel, genuine.sent);
        assertThat(replayed.accepted).isFalse();
        assertThat(replayed.status.getCode()).isEqualTo(Status.Code.UNAUTHENTICATED);
      }

      // record the authenticated headers of a real stream, then replay them elsewhere
      AtomicReference<Metadata> recorded = new AtomicReference<>();
      SessionCredentials real = new SessionCredentials(
          new HandshakeClient(Duration.ofSeconds(10)).handshake(first, accountId, token, "recorded"));
      CallCredentials recording = new CallCredentials() {
        @Override
        public void applyRequestMetadata(RequestInfo info, Executor executor, MetadataApplier applier) {
          real.applyRequestMetadata(info, executor, new MetadataApplier() {
            @Override
            public void apply(Metadata headers) {
              Metadata copy = new Metadata();
              copy.merge(headers);
              recorded.set(copy);
              applier.apply(headers);
            }

            @Override
            public void fail(Status status) {
              applier.fail(status);
            }
          });
        }
      };
      CompletableFuture<Status> liveEnd = new CompletableFuture<>();
      CompletableFuture<Boolean> registered = new CompletableFuture<>();
      StreamObserver<DelegateMessage> live = DelegateStreamGrpc.newStub(first).withCallCredentials(recording)
          .connect(EndStatus.<ManagerMessage>into(liveEnd, value -> registered.complete(value.hasRegistered())));
      live.onNext(DelegateMessage.newBuilder().setRegister(Register.newBuilder().setHostname("h")).build());
      assertThat(registered.get(10, TimeUnit.SECONDS)).isTrue();
      assertThat(recorded.get().keys()).contains("tether-session-id", "tether-call-seq", "tether-call-mac");

      for (ManagedChannel channel : new ManagedChannel[] {first, second}) {
        CompletableFuture<Status> closed = new CompletableFuture<>();
        StreamObserver<DelegateMessage> requests = DelegateStreamGrpc.newStub(channel)
            .withInterceptors(MetadataUtils.newAttachHeadersInterceptor(recorded.get()))
            .connect(EndStatus.<ManagerMessage>into(closed,
                value -> closed.complete(Status.INTERNAL.withDescription("replayed call got " + value.getKindCase()))));
        requests.onNext(DelegateMessage.newBuilder().setRegister(Register.newBuilder().setHostname("thief")).build());
        Status status = closed.get(10, TimeUnit.SECONDS);
        assertThat(status.getCode()).isEqualTo(Status.Code.UNAUTHENTICATED);
        assertThat(status.getDescription()).isEqualTo("delegate authentication failed");
      }
      assertThat(liveEnd).as("the genuine stream is untouched").isNotDone();
      live.onCompleted();
      first.shutdownNow();
      second.shutdownNow();
    }
  }
}
