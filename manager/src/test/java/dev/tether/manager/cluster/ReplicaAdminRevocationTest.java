package dev.tether.manager.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.common.util.concurrent.ListenableFuture;
import dev.tether.common.testing.SecretScanExtension;
import dev.tether.manager.admin.AdminCredentials;
import dev.tether.proto.admin.v1.AccountAdminGrpc;
import dev.tether.proto.admin.v1.AdminAccessGrpc;
import dev.tether.proto.admin.v1.AdminRole;
import dev.tether.proto.admin.v1.CreateAdminRequest;
import dev.tether.proto.admin.v1.ListAccountsRequest;
import dev.tether.proto.admin.v1.ListAccountsResponse;
import dev.tether.proto.admin.v1.RevokeAdminRequest;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * An admin revoked on one replica has its call in flight on another replica ended at once, while
 * that call is still waiting in the database, through the shared PostgreSQL's notifications.
 */
@ExtendWith(SecretScanExtension.class)
class ReplicaAdminRevocationTest {

  @TempDir Path root;

  @Test
  void revokingAnAdminOnOneReplica_endsItsCallInFlightOnAnother() throws Exception {
    try (Replicas replicas = new Replicas(root, 2)) {
      ManagedChannel first = replicas.adminChannel(0);
      ManagedChannel second = replicas.adminChannel(1);
      try {
        String operatorKey = AdminAccessGrpc.newBlockingStub(first).withCallCredentials(replicas.admin())
            .withDeadlineAfter(30, TimeUnit.SECONDS).createAdmin(CreateAdminRequest.newBuilder().setName("ops")
                .setRole(AdminRole.OPERATOR).build()).getValue();
        ListenableFuture<ListAccountsResponse> inFlight;
        // the accounts table locked: the operator's ListAccounts on the second replica waits in the database
        try (Connection lock = DriverManager.getConnection(replicas.dbUrl, "postgres", "postgres");
            Statement s = lock.createStatement()) {
          lock.setAutoCommit(false);
          s.execute("LOCK TABLE accounts IN ACCESS EXCLUSIVE MODE");
          inFlight = AccountAdminGrpc.newFutureStub(second).withCallCredentials(new AdminCredentials(operatorKey))
              .withDeadlineAfter(60, TimeUnit.SECONDS).listAccounts(ListAccountsRequest.getDefaultInstance());
          org.awaitility.Awaitility.await().atMost(30, TimeUnit.SECONDS).until(() -> waitingOnALock(replicas.dbUrl));

          assertThat(AdminAccessGrpc.newBlockingStub(first).withCallCredentials(replicas.admin())
              .withDeadlineAfter(30, TimeUnit.SECONDS).revokeAdmin(RevokeAdminRequest.newBuilder().setName("ops")
                  .build()).getCallsEnded()).as("no call of it on the first replica").isZero();

          assertThatThrownBy(() -> inFlight.get(30, TimeUnit.SECONDS)).isInstanceOf(ExecutionException.class)
              .cause().isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAUTHENTICATED);
                assertThat(e.getStatus().getDescription()).isEqualTo("admin credential revoked");
              });
          assertThat(waitingOnALock(replicas.dbUrl)).as("ended while its query still waited").isTrue();
          lock.rollback();
        }
        assertThatThrownBy(() -> AccountAdminGrpc.newBlockingStub(second)
            .withCallCredentials(new AdminCredentials(operatorKey)).withDeadlineAfter(30, TimeUnit.SECONDS)
            .listAccounts(ListAccountsRequest.getDefaultInstance()))
            .isInstanceOfSatisfying(StatusRuntimeException.class,
                e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAUTHENTICATED));
      } finally {
        first.shutdownNow();
        second.shutdownNow();
      }
    }
  }

  /** Whether a session of the database waits for a lock (the held ListAccounts query). */
  private static boolean waitingOnALock(String dbUrl) throws Exception {
    try (Connection c = DriverManager.getConnection(dbUrl, "postgres", "postgres"); Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
            + " AND datname = current_database()")) {
      rs.next();
      return rs.getInt(1) > 0;
    }
  }
}
