package dev.tether.manager.server;

import dev.tether.manager.testing.EndStatus;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

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
import dev.tether.delegate.connect.StreamClient;
import io.grpc.CallCredentials;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.util.Map;
import java.util.stream.Collectors;
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
    return ManagerServer.start(new ManagerServer.Options(new InetSocketAddress("127.0.0.1", 0), new InetSocketAddress("127.0.0.1", 0), dataDir,
        null, null, null, false, null, null, List.of(), ManagerSettings.defaults()));
  }

  /** A channel to the delegate listener. */
  private ManagedChannel channel(ManagerServer server) throws Exception {
    return channel(server.listenAddress().getPort());
  }

  private ManagedChannel adminChannel(ManagerServer server) throws Exception {
    return channel(server.adminAddress().getPort());
  }

  private ManagedChannel channel(int port) throws Exception {
    return Grpc.newChannelBuilderForAddress("127.0.0.1", port,
        TlsChannelCredentials.newBuilder().trustManager(dataDir.resolve("tls/manager.crt").toFile()).build()).build();
  }

  /** The services reflection lists on {@code channel}, or the status it fails with. */
  private static CompletableFuture<ServerReflectionResponse> reflect(ManagedChannel channel) {
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
    return answer;
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
  void delegateListener_servesHealthAndTheDelegateServicesOnly_adminListener_theAdminApiAndReflection()
      throws Exception {
    try (ManagerServer server = start()) {
      assertThat(server.adminAddress().getAddress().isLoopbackAddress()).isTrue();
      assertThat(server.adminAddress().getPort()).isNotEqualTo(server.listenAddress().getPort());
      ManagedChannel delegates = channel(server);
      ManagedChannel admin = adminChannel(server);
      try {
        HealthCheckResponse health = HealthGrpc.newBlockingStub(delegates)
            .withDeadlineAfter(10, TimeUnit.SECONDS).check(HealthCheckRequest.getDefaultInstance());
        assertThat(health.getStatus()).isEqualTo(HealthCheckResponse.ServingStatus.SERVING);

        assertThatThrownBy(() -> reflect(delegates).get(10, TimeUnit.SECONDS))
            .as("no reflection on the delegate port")
            .hasCauseInstanceOf(StatusRuntimeException.class)
            .cause().satisfies(e -> assertThat(((StatusRuntimeException) e).getStatus().getCode())
                .isEqualTo(Status.Code.UNIMPLEMENTED));
        String adminKey = Files.readString(dataDir.resolve(AdminKey.FILE_NAME)).strip();
        assertThatThrownBy(() -> AccountAdminGrpc.newBlockingStub(delegates).withCallCredentials(bearer(adminKey))
            .listAccounts(ListAccountsRequest.getDefaultInstance()))
            .as("no admin API on the delegate port, even with the admin key")
            .isInstanceOfSatisfying(StatusRuntimeException.class,
                e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNIMPLEMENTED));

        assertThat(reflect(admin).get(10, TimeUnit.SECONDS).getListServicesResponse().getServiceList())
            .extracting(s -> s.getName())
            .contains("tether.admin.v1.TokenAdmin", "tether.admin.v1.AdminAccess")
            .doesNotContain("tether.delegate.v1.DelegateAuth", "tether.delegate.v1.DelegateStream");
      } finally {
        delegates.shutdownNow();
        admin.shutdownNow();
      }
    }
  }

  @Test
  void adminListenOff_leavesNoAdminListener() throws Exception {
    try (ManagerServer server = ManagerServer.start(new ManagerServer.Options(new InetSocketAddress("127.0.0.1", 0),
        null, dataDir, null, null, null, false, null, null, List.of(), ManagerSettings.defaults()))) {
      assertThat(server.adminAddress()).isNull();
      assertThat(server.banner()).contains("admin API: no listener (--admin-listen off)");
    }
  }

  @Test
  void anAdminListenerPortInUse_isNamedInTheError_andNothingIsLeftListening() throws Exception {
    try (java.net.ServerSocket busy = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      assertThatThrownBy(() -> ManagerServer.start(new ManagerServer.Options(new InetSocketAddress("127.0.0.1", 0),
          new InetSocketAddress("127.0.0.1", busy.getLocalPort()), dataDir, null, null, null, false, null, null,
          List.of(), ManagerSettings.defaults())))
          .isInstanceOf(java.io.IOException.class)
          .hasMessageContaining("cannot listen on 127.0.0.1:" + busy.getLocalPort() + " for the admin listener")
          .hasMessageContaining("--admin-listen");
    }
    // the delegate listener it had opened is closed again: a second start on the same data directory works
    try (ManagerServer server = start()) {
      assertThat(server.adminAddress()).isNotNull();
    }
  }

  @Test
  void aTlsKeyTheTlsContextRefuses_failsTheStart_andTheStoreOpenedMeanwhileIsClosed() throws Exception {
    start().close();
    Path garbage = dataDir.resolve("garbage.key");
    Files.writeString(garbage, "not a PEM private key\n");
    Files.setPosixFilePermissions(garbage, PosixFilePermissions.fromString("rw-------"));
    // the database opens on a thread of its own while the TLS context is built: it must not outlive the failure
    assertThatThrownBy(() -> ManagerServer.start(new ManagerServer.Options(new InetSocketAddress("127.0.0.1", 0),
        new InetSocketAddress("127.0.0.1", 0), dataDir, null, null, null, false, dataDir.resolve("tls/manager.crt"),
        garbage, List.of(), ManagerSettings.defaults())))
        .isInstanceOf(java.io.IOException.class)
        .hasMessageContaining("cannot use the TLS certificate").hasMessageContaining("garbage.key")
        .hasMessageContaining("expected a PEM certificate chain and its unencrypted PKCS#8 PEM private key");
    awaitNoThreadsNamed("tether-store");
    try (ManagerServer server = start()) {
      assertThat(server.listenAddress()).isNotNull();
    }
  }

  @Test
  void aDatabaseThatCannotBeOpened_failsTheStartWithItsOwnError() throws Exception {
    // the database opens on a thread of its own: its error reaches the caller as it was thrown there
    assertThatThrownBy(() -> ManagerServer.start(new ManagerServer.Options(new InetSocketAddress("127.0.0.1", 0),
        new InetSocketAddress("127.0.0.1", 0), dataDir, "jdbc:no-such-database:x", null, null, false, null, null,
        List.of(), ManagerSettings.defaults())))
        .isInstanceOf(RuntimeException.class)
        .hasMessageContaining("jdbc:no-such-database:x");
    awaitNoThreadsNamed("tether-store");
    try (ManagerServer server = start()) {
      assertThat(server.listenAddress()).isNotNull();
    }
  }

  /** Waits until no live thread's name starts with {@code prefix}. */
  private static void awaitNoThreadsNamed(String prefix) {
    org.awaitility.Awaitility.await("no thread named " + prefix + "...").atMost(Duration.ofSeconds(30))
        .until(() -> Thread.getAllStackTraces().keySet().stream()
            .noneMatch(thread -> thread.isAlive() && thread.getName().startsWith(prefix)));
  }

  @Test
  void aDelegateSessionCannotCallAdminAndTheAdminKeyCannotOpenADelegateStream() throws Exception {
    try (ManagerServer server = start()) {
      ManagedChannel channel = channel(server);
      ManagedChannel admin = adminChannel(server);
      try {
        CreatedAccount account = server.manager().tokens().createAccount("acme", "test");
        DelegateToken token = TokenLedger.record(account.defaultToken().value());
        EstablishedSession session = new HandshakeClient(Duration.ofSeconds(10))
            .handshake(channel, account.account().id(), token, "d");

        assertThatThrownBy(() -> AccountAdminGrpc.newBlockingStub(admin)
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
        assertThat(AccountAdminGrpc.newBlockingStub(admin).withCallCredentials(bearer(adminKey))
            .listAccounts(ListAccountsRequest.getDefaultInstance()).getAccountsCount()).isEqualTo(1);
      } finally {
        channel.shutdownNow();
        admin.shutdownNow();
      }
    }
  }

  /**
   * The delegate stream's gRPC meters are kept by its session interceptor rather than Micrometer's
   * wrappers (GrpcCallMetrics): every stream, refused or not, is counted and timed once, under the
   * status it ended with, beside the calls Micrometer's interceptor meters (the handshakes).
   */
  @Test
  void everyDelegateStream_isMeteredOnce_underTheStatusItEndedWith_asEveryOtherCall() throws Exception {
    try (ManagerServer server = start()) {
      ManagedChannel channel = channel(server);
      MeterRegistry registry = server.manager().metrics().registry();
      try {
        CreatedAccount account = server.manager().tokens().createAccount("acme", "test");
        DelegateToken token = TokenLedger.record(account.defaultToken().value());
        HandshakeClient handshakes = new HandshakeClient(Duration.ofSeconds(10));
        Register register = Register.newBuilder().setHostname("build-host").build();

        // a stream that says goodbye: closed OK by the manager, after its Register and two heartbeats
        StreamClient leaving = StreamClient.open(channel,
            handshakes.handshake(channel, account.account().id(), token, "leaving"), register);
        leaving.registered().get(10, TimeUnit.SECONDS);
        for (int i = 0; i < 2; i++) {
          long seq = leaving.heartbeat();
          await().atMost(Duration.ofSeconds(10)).until(() -> leaving.lastAckSequence() >= seq);
        }
        assertThat(leaving.goodbye("done")).isTrue();
        assertThat(leaving.closed().get(10, TimeUnit.SECONDS).getCode()).isEqualTo(Status.Code.OK);

        // a stream the delegate cancels, and one refused for its credential
        StreamClient cancelled = StreamClient.open(channel,
            handshakes.handshake(channel, account.account().id(), token, "cancelled"), register);
        cancelled.registered().get(10, TimeUnit.SECONDS);
        cancelled.close();
        String adminKey = Files.readString(dataDir.resolve(AdminKey.FILE_NAME)).strip();
        StreamClient refused = StreamClient.open(channel, bearer(adminKey), register);
        assertThat(refused.closed().get(10, TimeUnit.SECONDS).getCode()).isEqualTo(Status.Code.UNAUTHENTICATED);

        Map<String, Long> expected = Map.of("OK", 1L, "CANCELLED", 1L, "UNAUTHENTICATED", 1L);
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() ->
            assertThat(timerCounts(registry, "Connect")).isEqualTo(expected));
        // Register, two heartbeats and a goodbye; Register on the second (and maybe on the refused)
        assertThat(counter(registry, "grpc.server.requests.received", "Connect")).isBetween(5.0, 6.0);
        // Registered and two acknowledgements; Registered
        assertThat(counter(registry, "grpc.server.responses.sent", "Connect")).isEqualTo(4);
        assertThat(timerCounts(registry, "Handshake")).isEqualTo(Map.of("OK", 2L));
        Timer goodbye = registry.find("grpc.server.processing.duration").tag("method", "Connect")
            .tag("status_code", "OK").timer();
        assertThat(goodbye.totalTime(TimeUnit.NANOSECONDS)).as("the stream's whole life").isPositive();
      } finally {
        channel.shutdownNow();
      }
    }
  }

  /** How many calls of {@code method} ended, by status code, from grpc.server.processing.duration. */
  private static Map<String, Long> timerCounts(MeterRegistry registry, String method) {
    return registry.find("grpc.server.processing.duration").tag("method", method).timers().stream()
        .filter(t -> t.count() > 0)
        .collect(Collectors.toMap(t -> t.getId().getTag("status_code"), Timer::count));
  }

  private static double counter(MeterRegistry registry, String name, String method) {
    return registry.find(name).tag("method", method).counters().stream().mapToDouble(Counter::count).sum();
  }

  private static CallCredentials bearer(String key) {
    return new AdminCredentials(key);
  }
}
