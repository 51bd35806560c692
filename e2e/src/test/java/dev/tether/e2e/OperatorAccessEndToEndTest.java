package dev.tether.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.tether.manager.admin.AdminCredentials;
import dev.tether.proto.admin.v1.AccountAdminGrpc;
import dev.tether.proto.admin.v1.AuditEvent;
import dev.tether.proto.admin.v1.ListAccountsRequest;
import dev.tether.proto.admin.v1.ListAuditResponse;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.TlsChannelCredentials;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.reflection.v1.ServerReflectionGrpc;
import io.grpc.reflection.v1.ServerReflectionRequest;
import io.grpc.reflection.v1.ServerReflectionResponse;
import io.grpc.stub.StreamObserver;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Named admins and the two listeners with the real jars: a viewer's {@code token revoke} is refused
 * with PERMISSION_DENIED and audited under the viewer's name while the delegate stays connected; an
 * operator's revoke cuts the delegate; the delegate port answers admin calls UNIMPLEMENTED and has
 * no reflection.
 */
class OperatorAccessEndToEndTest {

  private static final Duration START = Duration.ofSeconds(60);

  @TempDir static Path work;
  private static Tether tether;

  @BeforeAll
  static void start() {
    tether = new Tether(work.resolve("data"), "OperatorAccessEndToEndTest").start();
  }

  @AfterAll
  static void stop() {
    if (tether != null) {
      tether.close();
    }
  }

  @Test
  void aViewerIsRefusedTheRevoke_andAnOperatorsRevokeCutsTheDelegate() throws Exception {
    Path viewerKey = adminKey("auditor", "viewer");
    Path operatorKey = adminKey("ops", "operator");
    String account = tether.account("roles-acct");
    String token = tether.token(account, "ci");
    Proc delegate = tether.delegate("roles-1", tether.env(account, token));
    delegate.awaitLine("connected to", START);

    Tether.Result refused = tether.cli("token", "revoke", "--account", account, "--name", "ci",
        "--admin-key-file", viewerKey.toString());

    assertThat(refused.exit()).isEqualTo(1);
    assertThat(refused.err()).startsWith("error: admin 'auditor' has role viewer; TokenAdmin/RevokeToken needs role"
        + " operator or higher");
    assertThat(tether.delegate(account, "roles-1").getConnected()).as("the viewer cut nothing").isTrue();
    List<AuditEvent> audit = audit();
    assertThat(audit).filteredOn(e -> e.getAction().equals("admin.permission_denied")).singleElement()
        .satisfies(e -> {
          assertThat(e.getActor()).isEqualTo("auditor");
          assertThat(e.getDetail()).isEqualTo("method=TokenAdmin/RevokeToken role=viewer needed=operator");
          assertThat(e.getRemoteAddress()).startsWith("127.0.0.1:");
        });

    Tether.Result revoked = tether.cli("token", "revoke", "--account", account, "--name", "ci",
        "--admin-key-file", operatorKey.toString()).ok();

    assertThat(revoked.out()).contains("revoked; 1 delegate streams closed");
    assertThat(delegate.awaitExit(Duration.ofSeconds(30))).isEqualTo(78);
    assertThat(audit()).filteredOn(e -> e.getAction().equals("token.revoke")).singleElement()
        .satisfies(e -> assertThat(e.getActor()).isEqualTo("ops"));
    await().atMost(Duration.ofSeconds(60)).until(() -> !tether.delegate(account, "roles-1").getConnected());
  }

  @Test
  void theDelegatePort_answersAdminCallsUnimplemented_andHasNoReflection() throws Exception {
    String bootstrap = Files.readString(tether.dataDir.resolve("admin.key")).strip();
    ManagedChannel delegatePort = NettyChannelBuilder.forAddress("127.0.0.1", tether.port(),
        TlsChannelCredentials.newBuilder().trustManager(tether.dataDir.resolve("tls/manager.crt").toFile()).build())
        .build();
    try {
      assertThatThrownBy(() -> AccountAdminGrpc.newBlockingStub(delegatePort)
          .withCallCredentials(new AdminCredentials(bootstrap)).withDeadlineAfter(30, TimeUnit.SECONDS)
          .listAccounts(ListAccountsRequest.getDefaultInstance()))
          .isInstanceOfSatisfying(StatusRuntimeException.class,
              e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNIMPLEMENTED));

      CompletableFuture<Status> reflection = new CompletableFuture<>();
      StreamObserver<ServerReflectionRequest> requests = ServerReflectionGrpc.newStub(delegatePort)
          .withDeadlineAfter(30, TimeUnit.SECONDS).serverReflectionInfo(new StreamObserver<>() {
            @Override
            public void onNext(ServerReflectionResponse value) {
              reflection.complete(Status.OK);
            }

            @Override
            public void onError(Throwable t) {
              reflection.complete(Status.fromThrowable(t));
            }

            @Override
            public void onCompleted() {
              reflection.complete(Status.OK);
            }
          });
      requests.onNext(ServerReflectionRequest.newBuilder().setListServices("").build());
      assertThat(reflection.get(30, TimeUnit.SECONDS).getCode()).isEqualTo(Status.Code.UNIMPLEMENTED);
    } finally {
      delegatePort.shutdownNow();
    }

    Tether.Result cli = tether.rawCli(null, "account", "list", "--manager", "127.0.0.1:" + tether.port(),
        "--data-dir", tether.dataDir.toString());
    assertThat(cli.exit()).isEqualTo(1);
    assertThat(cli.err()).contains("does not serve the admin API").contains("delegate listener");
    assertThat(tether.cli("account", "list").ok().exit()).as("the admin port does").isZero();
  }

  /** An admin created by the bootstrap owner through the CLI; its key in a 0600 file. */
  private static Path adminKey(String name, String role) throws Exception {
    Path file = work.resolve(name + ".key");
    Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
    String key = tether.cli("admin", "create", name, "--role", role, "--field", "value").ok().out().strip();
    assertThat(key).startsWith("tak_");
    Files.writeString(file, key + "\n");
    return file;
  }

  private static List<AuditEvent> audit() {
    return Tether.parse(tether.cli("audit", "list", "--limit", "1000", "--json").ok().out(),
        ListAuditResponse.getDefaultInstance()).getEventsList();
  }
}
