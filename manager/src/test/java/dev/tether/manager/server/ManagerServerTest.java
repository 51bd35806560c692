package dev.tether.manager.server;

import dev.tether.manager.testing.EndStatus;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tether.common.testing.TokenLedger;
import dev.tether.common.token.DelegateToken;
import dev.tether.delegate.connect.EstablishedSession;
import dev.tether.delegate.connect.HandshakeClient;
import dev.tether.delegate.connect.SessionCredentials;
import dev.tether.manager.admin.AdminCredentials;
import dev.tether.manager.admin.AdminKey;
import dev.tether.manager.token.CreatedAccount;
import dev.tether.proto.admin.v1.ListAccountsRequest;
import dev.tether.proto.admin.v1.AccountAdminGrpc;
import dev.tether.proto.delegate.v1.DelegateMessage;
import dev.tether.proto.delegate.v1.DelegateStreamGrpc;
import dev.tether.proto.delegate.v1.ManagerMessage;
import dev.tether.proto.delegate.v1.Register;
import io.grpc.CallCredentials;
import io.grpc.Grpc;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.TlsChannelCredentials;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.reflection.v1.ServerReflectionGrpc;
import io.grpc.reflection.v1.ServerReflectionRequest;
import io.grpc.reflection.v1.ServerReflectionResponse;
import io.grpc.stub.StreamObserver;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The production server on a real Netty port with TLS: files, health, reflection, authorization. */
class ManagerServerTest {

  @TempDir Path dataDir;

  private ManagerServer start() throws Exception {
    return ManagerServer.start(new ManagerServer.Options(new InetSocketAddress("127.0.0.1", 0), dataDir,
        null, null, null, false, null, null, List.of(), ManagerSettings.defaults()));
  }

  private ManagedChannel channel(ManagerServer server) throws Exception {
    return Grpc.newChannelBuilderForAddress("127.0.0.1", server.listenAddress().getPort(),
        TlsChannelCredentials.newBuilder().trustManager(dataDir.resolve("tls/manager.crt").toFile()).build()).build();
  }

  @Test
  void firstStart_writesPrivateKeyFilesAndReusesThemAfterwards() throws Exception {
    String fingerprint;
    try (ManagerServer server = start()) {
      fingerprint = server.banner().stream().filter(l -> l.contains("fingerprint")).findFirst().orElseThrow();
      assertThat(fingerprint).containsPattern("([0-9A-F]{2}:){31}[0-9A-F]{2}");
    }
    for (String file : List.of("master.key", "admin.key", "tls/manager.key")) {
      assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(dataDir.resolve(file))))
          .as(file).isEqualTo("rw-------");
    }
    String adminKey = Files.readString(dataDir.resolve("admin.key"));
    try (ManagerServer again = start()) {
      assertThat(again.banner()).contains(fingerprint);
    }
    assertThat(Files.readString(dataDir.resolve("admin.key"))).isEqualTo(adminKey);
  }

  @Test
  void healthAndReflection_answerOverTls() throws Exception {
    try (ManagerServer server = start()) {
      ManagedChannel channel = channel(server);
      try {
        HealthCheckResponse health = HealthGrpc.newBlockingStub(channel)
            .withDeadlineAfter(10, TimeUnit.SECONDS).check(HealthCheckRequest.getDefaultInstance());
        assertThat(health.getStatus()).isEqualTo(HealthCheckResponse.ServingStatus.SERVING);

        CompletableFuture<ServerReflectionResponse> answer = new CompletableFuture<>();
        StreamObserver<ServerReflectionRequest> requests = ServerReflectionGrpc.newStub(channel)
            .serverReflectionInfo(new StreamObserver<>() {
              @Override
              public void onNext(ServerReflectionResponse value) {
                answer.complete(value);
              }

              @Override
              public void onError(Throwable t) {
                answer.completeExceptionally(t);
              }

              @Override
              public void onCompleted() { }
            });
        requests.onNext(ServerReflectionRequest.newBuilder().setListServices("").build());
        requests.onCompleted();
        assertThat(answer.get(10, TimeUnit.SECONDS).getListServicesResponse().getServiceList())
            .extracting(s -> s.getName())
            .contains("tether.delegate.v1.DelegateAuth", "tether.delegate.v1.DelegateStream",
                "tether.admin.v1.TokenAdmin", "grpc.health.v1.Health");
      } finally {
        channel.shutdownNow();
      }
    }
  }

  @Test
  void aDelegateSessionCannotCallAdminAndTheAdminKeyCannotOpenADelegateStream() throws Exception {
    try (ManagerServer server = start()) {
      ManagedChannel channel = channel(server);
      try {
        CreatedAccount account = server.manager().tokens().createAccount("acme", "test");
        DelegateToken token = TokenLedger.record(account.defaultToken().value());
        EstablishedSession session = new HandshakeClient(Duration.ofSeconds(10))
            .handshake(channel, account.account().id(), token, "d");

        assertThatThrownBy(() -> AccountAdminGrpc.newBlockingStub(channel)
            .withCallCredentials(new SessionCredentials(session))
            .listAccounts(ListAccountsRequest.getDefaultInstance()))
            .isInstanceOfSatisfying(StatusRuntimeException.class,
                e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAUTHENTICATED));

        String adminKey = Files.readString(dataDir.resolve(AdminKey.FILE_NAME)).strip();
        CompletableFuture<Status> closed = new CompletableFuture<>();
        StreamObserver<DelegateMessage> requests = DelegateStreamGrpc.newStub(channel)
            .withCallCredentials(bearer(adminKey))
            .connect(EndStatus.<ManagerMessage>into(closed,
                value -> closed.complete(Status.OK.withDescription("unexpected message " + value.getKindCase()))));
        requests.onNext(DelegateMessage.newBuilder().setRegister(Register.newBuilder().setHostname("h")).build());
        Status status = closed.get(10, TimeUnit.SECONDS);
        assertThat(status.getCode()).isEqualTo(Status.Code.UNAUTHENTICATED);
        assertThat(status.getDescription()).isEqualTo("delegate authentication failed");

        // and the admin key does work for admin calls
        assertThat(AccountAdminGrpc.newBlockingStub(channel).withCallCredentials(bearer(adminKey))
            .listAccounts(ListAccountsRequest.getDefaultInstance()).getAccountsCount()).isEqualTo(1);
      } finally {
        channel.shutdownNow();
      }
    }
  }

  private static CallCredentials bearer(String key) {
    return new AdminCredentials(key);
  }
}
