package dev.tether.manager.hardening;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tether.common.testing.TokenLedger;
import dev.tether.common.token.DelegateToken;
import dev.tether.manager.admin.AdminAuthInterceptor;
import dev.tether.manager.admin.AdminCredentials;
import dev.tether.manager.admin.AdminKey;
import dev.tether.manager.server.ManagerSettings;
import dev.tether.manager.testing.LogCapture;
import dev.tether.proto.admin.v1.AccountAdminGrpc;
import dev.tether.proto.admin.v1.AuditAdminGrpc;
import dev.tether.proto.admin.v1.AuditEvent;
import dev.tether.proto.admin.v1.CreateAccountRequest;
import dev.tether.proto.admin.v1.CreateAccountResponse;
import dev.tether.proto.admin.v1.ListAccountsRequest;
import dev.tether.proto.admin.v1.ListAuditRequest;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A flood of admin calls without the admin key, over TLS from two addresses: a few log lines and
 * audit rows with counts, and a real admin event afterwards is still on the first page of the
 * audit trail.
 */
class AdminRefusalFloodTest {

  private static final int AUDIT_PAGE = 100; // what 'audit list' shows by default
  private static final String WRONG_KEY = "tak_" + "a".repeat(52);

  @TempDir Path dataDir;

  @Test
  void refusedAdminCalls_makeOneLineAndOneAuditRowPerSourceAndInterval_plusOneCount() throws Exception {
    String adminKey;
    try (LogCapture log = new LogCapture(AdminAuthInterceptor.class)) {
      try (NettyManager manager = new NettyManager(dataDir, ManagerSettings.defaults())) {
        adminKey = Files.readString(dataDir.resolve(AdminKey.FILE_NAME)).strip();
        ManagedChannel attacker = manager.adminChannelFrom("127.0.0.1");
        ManagedChannel keyless = manager.adminChannelFrom("127.0.0.2");
        try {
          for (int i = 0; i < 500; i++) {
            refused(() -> AccountAdminGrpc.newBlockingStub(attacker).withCallCredentials(new AdminCredentials(WRONG_KEY))
                .withDeadlineAfter(10, TimeUnit.SECONDS).listAccounts(ListAccountsRequest.getDefaultInstance()));
          }
          for (int i = 0; i < 50; i++) {
            refused(() -> AccountAdminGrpc.newBlockingStub(keyless)
                .withDeadlineAfter(10, TimeUnit.SECONDS).listAccounts(ListAccountsRequest.getDefaultInstance()));
          }
        } finally {
          attacker.shutdownNow();
          keyless.shutdownNow();
        }
        assertThat(log.warnings()).containsExactlyInAnyOrder(
            "admin call refused: unknown or revoked admin credential from 127.0.0.1 (calling tether.admin.v1.AccountAdmin/ListAccounts)",
            "admin call refused: no admin credential from 127.0.0.2 (calling tether.admin.v1.AccountAdmin/ListAccounts)");

        ManagedChannel admin = manager.adminChannelFrom("127.0.0.3");
        try {
          CreateAccountResponse created = AccountAdminGrpc.newBlockingStub(admin)
              .withCallCredentials(new AdminCredentials(adminKey)).withDeadlineAfter(10, TimeUnit.SECONDS)
              .createAccount(CreateAccountRequest.newBuilder().setName("after-the-flood").build());
          TokenLedger.record(DelegateToken.parse("test", created.getValue()));
          List<AuditEvent> page = firstAuditPage(admin, adminKey);
          assertThat(page).extracting(AuditEvent::getAction).contains("account.create");
          assertThat(page).filteredOn(e -> e.getAction().equals("admin.auth_failed")).extracting(AuditEvent::getDetail)
              .containsExactlyInAnyOrder(
                  "unknown or revoked admin credential from 127.0.0.1 (calling tether.admin.v1.AccountAdmin/ListAccounts)",
                  "no admin credential from 127.0.0.2 (calling tether.admin.v1.AccountAdmin/ListAccounts)");
        } finally {
          admin.shutdownNow();
        }
      }
      // the stop ends the interval: one count line per source and reason
      assertThat(log.warnings()).hasSize(4).anySatisfy(line -> assertThat(line)
          .matches("admin call refused: 499 more refusals from 127.0.0\\.1 \\(unknown or revoked admin credential\\) in the last \\d+ s"))
          .anySatisfy(line -> assertThat(line)
              .matches("admin call refused: 49 more refusals from 127.0.0\\.2 \\(no admin credential\\) in the last \\d+ s"));
    }

    try (NettyManager restarted = new NettyManager(dataDir, ManagerSettings.defaults())) {
      ManagedChannel admin = restarted.adminChannelFrom("127.0.0.3");
      try {
        List<AuditEvent> page = firstAuditPage(admin, adminKey);
        assertThat(page).extracting(AuditEvent::getAction).contains("account.create");
        assertThat(page).filteredOn(e -> e.getAction().equals("admin.auth_failed")).extracting(AuditEvent::getDetail)
            .hasSize(4)
            .anySatisfy(d -> assertThat(d).startsWith("499 more refusals from 127.0.0.1 (unknown or revoked admin credential) in the last"))
            .anySatisfy(d -> assertThat(d).startsWith("49 more refusals from 127.0.0.2 (no admin credential) in the last"));
      } finally {
        admin.shutdownNow();
      }
    }
  }

  private static List<AuditEvent> firstAuditPage(ManagedChannel channel, String adminKey) {
    return AuditAdminGrpc.newBlockingStub(channel).withCallCredentials(new AdminCredentials(adminKey))
        .withDeadlineAfter(10, TimeUnit.SECONDS)
        .listAudit(ListAuditRequest.newBuilder().setLimit(AUDIT_PAGE).build()).getEventsList();
  }

  private static void refused(Runnable call) {
    assertThatThrownBy(call::run).isInstanceOfSatisfying(StatusRuntimeException.class,
        e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAUTHENTICATED));
  }
}
