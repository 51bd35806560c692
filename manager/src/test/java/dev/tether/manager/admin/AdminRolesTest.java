package dev.tether.manager.admin;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.Message;
import dev.tether.common.testing.SecretScanExtension;
import dev.tether.common.testing.TokenLedger;
import dev.tether.common.token.DelegateToken;
import dev.tether.manager.server.ManagerServer;
import dev.tether.manager.server.ManagerSettings;
import dev.tether.manager.store.AdminRole;
import dev.tether.proto.admin.v1.AccountAdminGrpc;
import dev.tether.proto.admin.v1.AdminAccessGrpc;
import dev.tether.proto.admin.v1.AuditAdminGrpc;
import dev.tether.proto.admin.v1.AuditEvent;
import dev.tether.proto.admin.v1.CreateAccountRequest;
import dev.tether.proto.admin.v1.CreateAccountResponse;
import dev.tether.proto.admin.v1.CreateAdminRequest;
import dev.tether.proto.admin.v1.CreateAdminResponse;
import dev.tether.proto.admin.v1.CreateTokenRequest;
import dev.tether.proto.admin.v1.DelegateAdminGrpc;
import dev.tether.proto.admin.v1.ListAuditRequest;
import dev.tether.proto.admin.v1.ListTokensRequest;
import dev.tether.proto.admin.v1.RevokeTokenRequest;
import dev.tether.proto.admin.v1.Token;
import dev.tether.proto.admin.v1.TokenAdminGrpc;
import dev.tether.proto.admin.v1.TokenStatus;
import dev.tether.proto.admin.v1.WhoAmIRequest;
import dev.tether.proto.admin.v1.WhoAmIResponse;
import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.grpc.ServiceDescriptor;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.TlsChannelCredentials;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.ClientCalls;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every method of every admin service, called over TLS on the admin listener by a viewer, an
 * operator and an owner: a role below the one the method needs gets PERMISSION_DENIED naming that
 * role, and the refusal is audited with the admin's name and address; a role that suffices is never
 * refused for its role.
 */
@ExtendWith(SecretScanExtension.class)
class AdminRolesTest {

  private static final List<ServiceDescriptor> ADMIN_SERVICES = List.of(
      AccountAdminGrpc.getServiceDescriptor(), TokenAdminGrpc.getServiceDescriptor(),
      DelegateAdminGrpc.getServiceDescriptor(), AuditAdminGrpc.getServiceDescriptor(),
      AdminAccessGrpc.getServiceDescriptor());

  @TempDir static Path dataDir;
  private static ManagerServer server;
  private static ManagedChannel channel;
  private static String bootstrapKey;
  private static final Map<AdminRole, String> KEYS = new EnumMap<>(AdminRole.class);

  @BeforeAll
  static void startManagerWithOneAdminOfEachRole() throws Exception {
    server = ManagerServer.start(new ManagerServer.Options(new InetSocketAddress("127.0.0.1", 0),
        new InetSocketAddress("127.0.0.1", 0), dataDir, null, null, null, false, null, null, List.of(),
        ManagerSettings.defaults()));
    channel = NettyChannelBuilder.forAddress("127.0.0.1", server.adminAddress().getPort(),
        TlsChannelCredentials.newBuilder().trustManager(dataDir.resolve("tls/manager.crt").toFile()).build()).build();
    bootstrapKey = Files.readString(dataDir.resolve(AdminKey.FILE_NAME)).strip();
    for (AdminRole role : List.of(AdminRole.VIEWER, AdminRole.OPERATOR, AdminRole.OWNER)) {
      CreateAdminResponse created = AdminAccessGrpc.newBlockingStub(channel).withCallCredentials(
          new AdminCredentials(bootstrapKey)).withDeadlineAfter(30, TimeUnit.SECONDS).createAdmin(
          CreateAdminRequest.newBuilder().setName(role.label() + "-1").setRole(Protos.role(role)).build());
      KEYS.put(role, created.getValue());
    }
  }

  @AfterAll
  static void stop() {
    if (channel != null) {
      channel.shutdownNow();
    }
    if (server != null) {
      server.close();
    }
  }

  @Test
  void everyAdminMethodHasARole() {
    assertThat(allMethods()).isNotEmpty().allSatisfy(method ->
        assertThat(Permissions.needed(method.getFullMethodName())).as(method.getFullMethodName()).isPresent());
  }

  @TestFactory
  Stream<DynamicTest> eachMethodWithEachRole() {
    List<DynamicTest> tests = new ArrayList<>();
    for (MethodDescriptor<?, ?> method : allMethods()) {
      AdminRole needed = Permissions.needed(method.getFullMethodName()).orElseThrow();
      for (AdminRole role : KEYS.keySet()) {
        tests.add(DynamicTest.dynamicTest(AdminAuthInterceptor.shortName(method.getFullMethodName()) + " as "
            + role.label(), () -> callAs(method, role, needed)));
      }
    }
    return tests.stream();
  }

  @Test
  void aViewerIsRefusedRevokingAToken_theTokenStaysActive_andTheAuditNamesTheViewer() {
    TokenAdminGrpc.TokenAdminBlockingStub operator = TokenAdminGrpc.newBlockingStub(channel)
        .withCallCredentials(new AdminCredentials(KEYS.get(AdminRole.OPERATOR))).withDeadlineAfter(30, TimeUnit.SECONDS);
    CreateAccountResponse account = AccountAdminGrpc.newBlockingStub(channel)
        .withCallCredentials(new AdminCredentials(KEYS.get(AdminRole.OPERATOR))).withDeadlineAfter(30, TimeUnit.SECONDS)
        .createAccount(CreateAccountRequest.newBuilder().setName("viewer-target").build());
    TokenLedger.record(DelegateToken.parse("test", account.getValue()));
    String accountId = account.getAccount().getId();
    TokenLedger.record(DelegateToken.parse("test", operator.createToken(CreateTokenRequest.newBuilder()
        .setAccountId(accountId).setName("ci").setDescription("the CI runners").build()).getValue()));

    String viewerKey = KEYS.get(AdminRole.VIEWER);
    assertThatThrownBy(() -> TokenAdminGrpc.newBlockingStub(channel).withCallCredentials(new AdminCredentials(viewerKey))
        .withDeadlineAfter(30, TimeUnit.SECONDS)
        .revokeToken(RevokeTokenRequest.newBuilder().setAccountId(accountId).setName("ci").build()))
        .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
          assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.PERMISSION_DENIED);
          assertThat(e.getStatus().getDescription()).isEqualTo(
              "admin 'viewer-1' has role viewer; TokenAdmin/RevokeToken needs role operator or higher");
        });

    List<Token> tokens = operator.listTokens(ListTokensRequest.newBuilder().setAccountId(accountId).build())
        .getTokensList();
    assertThat(tokens).filteredOn(t -> t.getName().equals("ci")).singleElement().satisfies(t -> {
      assertThat(t.getStatus()).isEqualTo(TokenStatus.ACTIVE);
      assertThat(t.getDescription()).isEqualTo("the CI runners");
    });
    WhoAmIResponse viewer = AdminAccessGrpc.newBlockingStub(channel).withCallCredentials(new AdminCredentials(viewerKey))
        .withDeadlineAfter(30, TimeUnit.SECONDS).whoAmI(WhoAmIRequest.getDefaultInstance());
    assertThat(viewer.getAdmin().getName()).isEqualTo("viewer-1");
    assertThat(viewer.getRemoteAddress()).startsWith("127.0.0.1:");
    List<AuditEvent> audit = AuditAdminGrpc.newBlockingStub(channel).withCallCredentials(new AdminCredentials(viewerKey))
        .withDeadlineAfter(30, TimeUnit.SECONDS).listAudit(ListAuditRequest.newBuilder().setLimit(1000).build())
        .getEventsList();
    assertThat(audit).filteredOn(e -> e.getAction().equals("admin.permission_denied")
            && e.getDetail().equals("method=TokenAdmin/RevokeToken role=viewer needed=operator"))
        .isNotEmpty().allSatisfy(e -> {
          assertThat(e.getActor()).isEqualTo("viewer-1");
          assertThat(e.getRemoteAddress()).startsWith("127.0.0.1:");
        });
    assertThat(audit).filteredOn(e -> e.getAction().equals("token.create")).extracting(AuditEvent::getActor)
        .contains("operator-1");
    assertThat(audit).filteredOn(e -> e.getAction().equals("admin.create"))
        .anySatisfy(e -> {
          assertThat(e.getActor()).isEqualTo("system");
          assertThat(e.getDetail()).startsWith("name=bootstrap role=owner ");
        })
        .anySatisfy(e -> {
          assertThat(e.getActor()).isEqualTo("bootstrap");
          assertThat(e.getDetail()).startsWith("name=viewer-1 role=viewer");
          assertThat(e.getRemoteAddress()).startsWith("127.0.0.1:");
        });
  }

  @Test
  void prepareInstall_refusesATypeOrDelegateNameInstallFilesWouldRefuse_beforeAuditingAnything() {
    CreateAccountResponse account = AccountAdminGrpc.newBlockingStub(channel)
        .withCallCredentials(new AdminCredentials(KEYS.get(AdminRole.OPERATOR))).withDeadlineAfter(30, TimeUnit.SECONDS)
        .createAccount(CreateAccountRequest.newBuilder().setName("install-target").build());
    DelegateToken token = DelegateToken.parse("test", account.getValue());
    TokenLedger.record(token);
    String accountId = account.getAccount().getId();
    TokenAdminGrpc.TokenAdminBlockingStub operator = TokenAdminGrpc.newBlockingStub(channel)
        .withCallCredentials(new AdminCredentials(KEYS.get(AdminRole.OPERATOR))).withDeadlineAfter(30, TimeUnit.SECONDS);
    dev.tether.proto.admin.v1.PrepareInstallRequest valid = dev.tether.proto.admin.v1.PrepareInstallRequest.newBuilder()
        .setAccountId(accountId).setTokenName("default").setTokenId(token.credential(accountId).publicId())
        .setInstallType("kubernetes").setDelegateName("builder-1").build();

    assertThatThrownBy(() -> operator.prepareInstall(valid.toBuilder().setDelegateName("bad name/!").build()))
        .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
          assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
          assertThat(e.getStatus().getDescription()).startsWith("delegate name 'bad name/!' is not a valid delegate name");
        });
    assertThatThrownBy(() -> operator.prepareInstall(valid.toBuilder().setInstallType("rpm\u202e").build()))
        .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
          assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
          assertThat(e.getStatus().getDescription()).startsWith("install type ").contains("is not known");
        });
    assertThat(operator.prepareInstall(valid).getToken().getName()).isEqualTo("default");

    List<AuditEvent> installs = AuditAdminGrpc.newBlockingStub(channel)
        .withCallCredentials(new AdminCredentials(KEYS.get(AdminRole.VIEWER))).withDeadlineAfter(30, TimeUnit.SECONDS)
        .listAudit(ListAuditRequest.newBuilder().setAccountId(accountId).build()).getEventsList().stream()
        .filter(e -> e.getAction().equals("install.files")).toList();
    assertThat(installs).singleElement().satisfies(e -> {
      assertThat(e.getActor()).isEqualTo("operator-1");
      assertThat(e.getDetail()).isEqualTo("type=kubernetes delegate=builder-1 token=default");
    });
  }

  private static void callAs(MethodDescriptor<?, ?> method, AdminRole role, AdminRole needed) {
    try {
      call(method, KEYS.get(role));
      assertThat(role.includes(needed)).as("%s answered %s", method.getFullMethodName(), role).isTrue();
    } catch (StatusRuntimeException e) {
      Status status = e.getStatus();
      assertThat(status.getCode()).as("%s as %s: %s", method.getFullMethodName(), role, status)
          .isNotEqualTo(Status.Code.UNAUTHENTICATED);
      if (role.includes(needed)) {
        assertThat(status.getCode()).as("%s as %s: %s", method.getFullMethodName(), role, status)
            .isNotEqualTo(Status.Code.PERMISSION_DENIED);
      } else {
        assertThat(status.getCode()).isEqualTo(Status.Code.PERMISSION_DENIED);
        assertThat(status.getDescription()).isEqualTo("admin '" + role.label() + "-1' has role " + role.label() + "; "
            + AdminAuthInterceptor.shortName(method.getFullMethodName()) + " needs role " + needed.label()
            + (needed == AdminRole.OWNER ? "" : " or higher"));
      }
    }
  }

  /** Calls {@code method} with its empty request: enough to pass or fail the role check. */
  private static <Q, R> void call(MethodDescriptor<Q, R> method, String key) {
    Q empty = ((MethodDescriptor.PrototypeMarshaller<Q>) method.getRequestMarshaller()).getMessagePrototype();
    assertThat(empty).isInstanceOf(Message.class);
    ClientCalls.blockingUnaryCall(channel, method, CallOptions.DEFAULT.withCallCredentials(new AdminCredentials(key))
        .withDeadlineAfter(30, TimeUnit.SECONDS), empty);
  }

  private static List<MethodDescriptor<?, ?>> allMethods() {
    List<MethodDescriptor<?, ?>> methods = new ArrayList<>();
    for (ServiceDescriptor service : ADMIN_SERVICES) {
      methods.addAll(service.getMethods());
    }
    return methods;
  }
}
