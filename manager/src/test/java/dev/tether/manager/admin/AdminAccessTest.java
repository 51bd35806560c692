package dev.tether.manager.admin;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.common.io.BaseEncoding;
import com.google.common.util.concurrent.ListenableFuture;
import dev.tether.common.files.PrivateFiles;
import dev.tether.common.handshake.HandshakeCrypto;
import dev.tether.common.testing.SecretScanExtension;
import dev.tether.manager.server.Manager;
import dev.tether.manager.server.ManagerServer;
import dev.tether.manager.server.ManagerSettings;
import dev.tether.manager.store.JdbcStore;
import dev.tether.manager.store.TetherStore;
import dev.tether.manager.testing.LogCapture;
import dev.tether.manager.token.MasterKey;
import dev.tether.proto.admin.v1.AccountAdminGrpc;
import dev.tether.proto.admin.v1.AdminAccessGrpc;
import dev.tether.proto.admin.v1.AdminRole;
import dev.tether.proto.admin.v1.CreateAdminRequest;
import dev.tether.proto.admin.v1.ListAccountsRequest;
import dev.tether.proto.admin.v1.ListAccountsResponse;
import dev.tether.proto.admin.v1.RevokeAdminRequest;
import dev.tether.proto.admin.v1.RevokeAdminResponse;
import dev.tether.proto.admin.v1.WhoAmIRequest;
import dev.tether.proto.admin.v1.WhoAmIResponse;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.TlsChannelCredentials;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Named admins over the admin API: revoking one ends its calls in flight at once and refuses its
 * next ones; the last active owner cannot be revoked; the {@code admin.key} of an earlier version
 * becomes the bootstrap owner, and a replaced one re-keys it.
 */
@ExtendWith(SecretScanExtension.class)
class AdminAccessTest {

  @TempDir Path dataDir;

  /** The store method that, while set, waits until {@link #release} opens. */
  private final java.util.concurrent.atomic.AtomicReference<String> hold = new java.util.concurrent.atomic.AtomicReference<>();
  private final CountDownLatch entered = new CountDownLatch(1);
  private final CountDownLatch release = new CountDownLatch(1);
  private Manager manager;
  private Server server;
  private ManagedChannel channel;
  private String bootstrapKey;

  private void startInProcess() throws Exception {
    TetherStore real = JdbcStore.open(JdbcStore.h2Url(dataDir), null, null);
    TetherStore held = (TetherStore) Proxy.newProxyInstance(TetherStore.class.getClassLoader(),
        new Class<?>[] {TetherStore.class}, (proxy, method, args) -> {
          if (method.getName().equals(hold.get())) {
            entered.countDown();
            assertThat(release.await(60, TimeUnit.SECONDS)).isTrue();
          }
          try {
            return method.invoke(real, args);
          } catch (InvocationTargetException e) {
            throw e.getCause();
          }
        });
    manager = Manager.create(held, MasterKey.loadOrCreate(dataDir.resolve(MasterKey.FILE_NAME)),
        ManagerSettings.defaults()).start();
    AdminKey key = AdminKey.loadOrCreate(dataDir.resolve(AdminKey.FILE_NAME));
    manager.admins().bootstrap(key);
    bootstrapKey = Files.readString(dataDir.resolve(AdminKey.FILE_NAME)).strip();
    String name = "admin-access-" + System.nanoTime();
    server = manager.addAdminServicesTo(InProcessServerBuilder.forName(name)).build().start();
    channel = InProcessChannelBuilder.forName(name).build();
  }

  @AfterEach
  void stop() throws Exception {
    release.countDown();
    if (channel != null) {
      channel.shutdownNow();
    }
    if (server != null) {
      server.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
    }
    if (manager != null) {
      manager.close();
    }
  }

  @Test
  void revokingAnAdmin_endsItsCallInFlightAtOnce_andRefusesItsNextCalls() throws Exception {
    startInProcess();
    String operatorKey = createAdmin(bootstrapKey, "ops", AdminRole.OPERATOR);
    hold.set("listAccounts");
    ListenableFuture<ListAccountsResponse> inFlight = AccountAdminGrpc.newFutureStub(channel)
        .withCallCredentials(new AdminCredentials(operatorKey)).withDeadlineAfter(60, TimeUnit.SECONDS)
        .listAccounts(ListAccountsRequest.getDefaultInstance());
    assertThat(entered.await(30, TimeUnit.SECONDS)).as("the operator's call reached the store").isTrue();
    hold.set(null);

    RevokeAdminResponse revoked = admins(bootstrapKey).revokeAdmin(RevokeAdminRequest.newBuilder().setName("ops").build());

    assertThat(revoked.getCallsEnded()).isEqualTo(1);
    assertThat(revoked.getAdmin().getRevoked()).isTrue();
    assertThat(revoked.getAdmin().getRevokedBy()).isEqualTo("bootstrap");
    // ended while the handler is still waiting in the store: not when it finishes
    assertThatThrownBy(() -> inFlight.get(30, TimeUnit.SECONDS)).isInstanceOf(ExecutionException.class)
        .cause().isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
          assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAUTHENTICATED);
          assertThat(e.getStatus().getDescription()).isEqualTo("admin credential revoked");
        });
    release.countDown();
    assertThatThrownBy(() -> AccountAdminGrpc.newBlockingStub(channel).withCallCredentials(new AdminCredentials(operatorKey))
        .withDeadlineAfter(30, TimeUnit.SECONDS).listAccounts(ListAccountsRequest.getDefaultInstance()))
        .isInstanceOfSatisfying(StatusRuntimeException.class,
            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAUTHENTICATED));
    assertThat(admins(bootstrapKey).whoAmI(WhoAmIRequest.getDefaultInstance()).getAdmin().getName())
        .as("other admins are untouched").isEqualTo("bootstrap");
  }

  @Test
  void aChangeInFlightWhenItsAdminIsRevoked_commitsNothing() throws Exception {
    startInProcess();
    String operatorKey = createAdmin(bootstrapKey, "ops", AdminRole.OPERATOR);
    hold.set("createAccount");
    ListenableFuture<dev.tether.proto.admin.v1.CreateAccountResponse> inFlight = AccountAdminGrpc.newFutureStub(channel)
        .withCallCredentials(new AdminCredentials(operatorKey)).withDeadlineAfter(60, TimeUnit.SECONDS)
        .createAccount(dev.tether.proto.admin.v1.CreateAccountRequest.newBuilder().setName("after-revoke").build());
    assertThat(entered.await(30, TimeUnit.SECONDS)).as("the operator's change reached the store").isTrue();
    hold.set(null);

    admins(bootstrapKey).revokeAdmin(RevokeAdminRequest.newBuilder().setName("ops").build());
    assertThatThrownBy(() -> inFlight.get(30, TimeUnit.SECONDS)).isInstanceOf(ExecutionException.class);
    release.countDown();

    // the handler went on once released; what it was about to commit is rolled back
    org.awaitility.Awaitility.await().atMost(30, TimeUnit.SECONDS).until(() -> manager.store().listAudit(null, 100)
        .stream().anyMatch(e -> e.action().equals("admin.revoke")));
    org.awaitility.Awaitility.await().during(java.time.Duration.ofSeconds(2)).atMost(30, TimeUnit.SECONDS)
        .until(() -> manager.store().listAccounts().stream().noneMatch(a -> a.name().equals("after-revoke")));
    assertThat(manager.store().listAudit(null, 100)).noneMatch(e -> e.actor().equals("ops")
        && !e.action().equals("admin.revoke"));
  }

  @Test
  void aFloodOfCallsRefusedForTheRole_isOneLogLineAndOneAuditRow_andRealEventsStayOnTheFirstPage() throws Exception {
    startInProcess();
    String viewerKey = createAdmin(bootstrapKey, "ci-reader", AdminRole.VIEWER);
    dev.tether.proto.admin.v1.CreateAccountResponse victim = AccountAdminGrpc.newBlockingStub(channel)
        .withCallCredentials(new AdminCredentials(bootstrapKey)).withDeadlineAfter(30, TimeUnit.SECONDS)
        .createAccount(dev.tether.proto.admin.v1.CreateAccountRequest.newBuilder().setName("victim").build());
    dev.tether.common.testing.TokenLedger.record(dev.tether.common.token.DelegateToken.parse("test", victim.getValue()));

    try (LogCapture log = new LogCapture(AdminAuthInterceptor.class)) {
      for (int i = 0; i < 300; i++) {
        assertThatThrownBy(() -> dev.tether.proto.admin.v1.TokenAdminGrpc.newBlockingStub(channel)
            .withCallCredentials(new AdminCredentials(viewerKey)).withDeadlineAfter(30, TimeUnit.SECONDS)
            .revokeToken(dev.tether.proto.admin.v1.RevokeTokenRequest.newBuilder()
                .setAccountId(victim.getAccount().getId()).setName("default").build()))
            .isInstanceOfSatisfying(StatusRuntimeException.class,
                e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.PERMISSION_DENIED));
      }
      assertThat(log.warnings()).containsExactly("admin call denied: method=TokenAdmin/RevokeToken role=viewer"
          + " needed=operator from ci-reader");
    }
    var firstPage = manager.store().listAudit(null, 100);
    assertThat(firstPage).extracting(dev.tether.manager.store.AuditEvent::action).contains("account.create");
    assertThat(firstPage).filteredOn(e -> e.action().equals("admin.permission_denied")).singleElement()
        .satisfies(e -> {
          assertThat(e.actor()).isEqualTo("ci-reader");
          assertThat(e.detail()).isEqualTo("method=TokenAdmin/RevokeToken role=viewer needed=operator");
        });
  }

  @Test
  void anOwnerMayRevokeItself_whileAnotherOwnerRemains() throws Exception {
    startInProcess();
    String alice = createAdmin(bootstrapKey, "alice", AdminRole.OWNER);

    RevokeAdminResponse revoked = admins(alice).revokeAdmin(RevokeAdminRequest.newBuilder().setName("alice").build());

    assertThat(revoked.getAdmin().getRevokedBy()).isEqualTo("alice");
    assertThatThrownBy(() -> admins(alice).whoAmI(WhoAmIRequest.getDefaultInstance()))
        .isInstanceOfSatisfying(StatusRuntimeException.class,
            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAUTHENTICATED));
  }

  @Test
  void namesTheAuditTrailUsesForTheManager_areReserved() throws Exception {
    startInProcess();
    for (String name : List.of("system", "unauthenticated", "admin", "bootstrap", "System")) {
      assertThatThrownBy(() -> createAdmin(bootstrapKey, name, AdminRole.VIEWER)).as(name)
          .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
            assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
            assertThat(e.getStatus().getDescription()).startsWith("admin name '" + name + "' is reserved");
          });
    }
  }

  @Test
  void anAuditLimitBeyondTwoToThe31_isTheMaximum_notAStoreFailure() throws Exception {
    startInProcess();
    assertThat(dev.tether.proto.admin.v1.AuditAdminGrpc.newBlockingStub(channel)
        .withCallCredentials(new AdminCredentials(bootstrapKey)).withDeadlineAfter(30, TimeUnit.SECONDS)
        .listAudit(dev.tether.proto.admin.v1.ListAuditRequest.newBuilder().setLimit(-1).build()).getEventsList())
        .isNotEmpty();
  }

  @Test
  void aDeletedBootstrapOwner_staysGoneAfterARestart() throws Exception {
    try (ManagerServer first = startServer()) {
      String bootstrap = Files.readString(dataDir.resolve(AdminKey.FILE_NAME)).strip();
      String alice = createAdminOver(first, bootstrap, "alice");
      ManagedChannel tls = tlsChannel(first);
      try {
        AdminAccessGrpc.AdminAccessBlockingStub asAlice = AdminAccessGrpc.newBlockingStub(tls)
            .withCallCredentials(new AdminCredentials(alice)).withDeadlineAfter(30, TimeUnit.SECONDS);
        asAlice.revokeAdmin(RevokeAdminRequest.newBuilder().setName("bootstrap").build());
        asAlice.deleteAdmin(dev.tether.proto.admin.v1.DeleteAdminRequest.newBuilder().setName("bootstrap").build());
      } finally {
        tls.shutdownNow();
      }
    }
    String bootstrap = Files.readString(dataDir.resolve(AdminKey.FILE_NAME)).strip();
    try (LogCapture log = new LogCapture(AdminDirectory.class); ManagerServer second = startServer()) {
      assertThatThrownBy(() -> whoAmI(second, bootstrap)).isInstanceOfSatisfying(StatusRuntimeException.class,
          e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAUTHENTICATED));
      assertThat(log.warnings()).contains("admin.key holds the credential of admin 'bootstrap', which an owner"
          + " deleted: it authenticates nothing; use another owner's credential");
    }
  }

  @Test
  void theLastActiveOwner_cannotBeRevoked_butCanOnceAnotherOwnerExists() throws Exception {
    startInProcess();
    assertThatThrownBy(() -> admins(bootstrapKey).revokeAdmin(RevokeAdminRequest.newBuilder().setName("bootstrap").build()))
        .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
          assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.FAILED_PRECONDITION);
          assertThat(e.getStatus().getDescription()).isEqualTo("admin 'bootstrap' is the last active owner; create"
              + " another owner first ('admin create NAME --role owner'), so that someone can still manage admins");
        });
    String secondOwner = createAdmin(bootstrapKey, "alice", AdminRole.OWNER);
    createAdmin(secondOwner, "viewer-bob", AdminRole.VIEWER);

    admins(secondOwner).revokeAdmin(RevokeAdminRequest.newBuilder().setName("bootstrap").build());

    assertThatThrownBy(() -> admins(bootstrapKey).whoAmI(WhoAmIRequest.getDefaultInstance()))
        .isInstanceOfSatisfying(StatusRuntimeException.class,
            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAUTHENTICATED));
    assertThatThrownBy(() -> admins(secondOwner).revokeAdmin(RevokeAdminRequest.newBuilder().setName("alice").build()))
        .isInstanceOfSatisfying(StatusRuntimeException.class,
            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.FAILED_PRECONDITION));
    assertThat(admins(secondOwner).whoAmI(WhoAmIRequest.getDefaultInstance()).getAdmin().getRole())
        .isEqualTo(AdminRole.OWNER);
  }

  @Test
  void theAdminKeyOfAnEarlierVersion_isTheBootstrapOwner_andAReplacedKeyReKeysIt() throws Exception {
    Files.createDirectories(dataDir);
    Files.setPosixFilePermissions(dataDir, java.nio.file.attribute.PosixFilePermissions.fromString("rwx------"));
    String legacy = "tak_" + BaseEncoding.base32().lowerCase().omitPadding().encode(HandshakeCrypto.randomBytes(32));
    assertThat(legacy).hasSize(4 + 52);
    PrivateFiles.createFile(dataDir.resolve(AdminKey.FILE_NAME), (legacy + "\n").getBytes(StandardCharsets.UTF_8));

    try (ManagerServer first = startServer()) {
      WhoAmIResponse me = whoAmI(first, legacy);
      assertThat(me.getAdmin().getName()).isEqualTo("bootstrap");
      assertThat(me.getAdmin().getRole()).isEqualTo(AdminRole.OWNER);
    }
    assertThat(Files.readString(dataDir.resolve(AdminKey.FILE_NAME)).strip()).as("the file is left as it was")
        .isEqualTo(legacy);

    Files.delete(dataDir.resolve(AdminKey.FILE_NAME));
    try (LogCapture log = new LogCapture(AdminDirectory.class); ManagerServer second = startServer()) {
      String replaced = Files.readString(dataDir.resolve(AdminKey.FILE_NAME)).strip();
      assertThat(replaced).hasSize(4 + 58);
      assertThat(whoAmI(second, replaced).getAdmin().getName()).isEqualTo("bootstrap");
      assertThatThrownBy(() -> whoAmI(second, legacy)).isInstanceOfSatisfying(StatusRuntimeException.class,
          e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAUTHENTICATED));
      assertThat(log.warnings()).anySatisfy(line -> assertThat(line)
          .startsWith("admin.key holds another credential (adm_").contains("the old one no longer works"));
    }
  }

  private ManagerServer startServer() throws Exception {
    return ManagerServer.start(new ManagerServer.Options(new InetSocketAddress("127.0.0.1", 0),
        new InetSocketAddress("127.0.0.1", 0), dataDir, null, null, null, false, null, null, List.of(),
        ManagerSettings.defaults()));
  }

  private WhoAmIResponse whoAmI(ManagerServer server, String key) throws Exception {
    ManagedChannel tls = NettyChannelBuilder.forAddress("127.0.0.1", server.adminAddress().getPort(),
        TlsChannelCredentials.newBuilder().trustManager(dataDir.resolve("tls/manager.crt").toFile()).build()).build();
    try {
      return AdminAccessGrpc.newBlockingStub(tls).withCallCredentials(new AdminCredentials(key))
          .withDeadlineAfter(30, TimeUnit.SECONDS).whoAmI(WhoAmIRequest.getDefaultInstance());
    } finally {
      tls.shutdownNow();
    }
  }

  private ManagedChannel tlsChannel(ManagerServer server) throws Exception {
    return NettyChannelBuilder.forAddress("127.0.0.1", server.adminAddress().getPort(),
        TlsChannelCredentials.newBuilder().trustManager(dataDir.resolve("tls/manager.crt").toFile()).build()).build();
  }

  private String createAdminOver(ManagerServer server, String byKey, String name) throws Exception {
    ManagedChannel tls = tlsChannel(server);
    try {
      return AdminAccessGrpc.newBlockingStub(tls).withCallCredentials(new AdminCredentials(byKey))
          .withDeadlineAfter(30, TimeUnit.SECONDS).createAdmin(CreateAdminRequest.newBuilder().setName(name)
              .setRole(AdminRole.OWNER).build()).getValue();
    } finally {
      tls.shutdownNow();
    }
  }

  private AdminAccessGrpc.AdminAccessBlockingStub admins(String key) {
    return AdminAccessGrpc.newBlockingStub(channel).withCallCredentials(new AdminCredentials(key))
        .withDeadlineAfter(30, TimeUnit.SECONDS);
  }

  private String createAdmin(String byKey, String name, AdminRole role) {
    return admins(byKey).createAdmin(CreateAdminRequest.newBuilder().setName(name).setRole(role).build()).getValue();
  }
}
