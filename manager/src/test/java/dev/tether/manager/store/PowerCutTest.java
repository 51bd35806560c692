package dev.tether.manager.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The embedded database keeps what it acknowledged through a power cut, not only through a crash of
 * the process (e2e's {@code CrashDurabilityTest}): H2 writes a commit into the operating system's
 * cache and forces nothing to the disk while it runs, so the store forces every transaction before
 * it returns. The cut is modelled by {@link PowerCutFileSystem}: after it, the disk holds the files
 * as they were at their last force.
 */
class PowerCutTest {

  private static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");
  private static final Actor ALICE = Actor.named("alice");

  @TempDir Path dir;

  @Test
  void everyAcknowledgedWrite_survivesAPowerCutRightAfterIt_andAWriteNeverForcedDoesNot() throws Exception {
    Path live = dir.resolve("live");
    Path afterTheCut = dir.resolve("after-the-cut");
    String revokedId;
    String delegateId;
    int forced;
    try (JdbcStore store = (JdbcStore) JdbcStore.open(PowerCutFileSystem.h2Url(live), null, null)) {
      store.createAccount(new Account("acc1", "acme", T0, "alice"),
          new NewToken("acc1", "default", "tid_aaaaaaaaaaaaaaaa", "c2VhbGVk", T0, "alice", null), ALICE);
      TokenRecord builders = store.createToken(
          new NewToken("acc1", "builders", "tid_bbbbbbbbbbbbbbbb", "c2VhbGVk", T0, "alice", null), "", ALICE);
      delegateId = store.delegateConnected(new DelegateRecord(null, "acc1", "builder-1", "host-1", "SHELL_SCRIPT",
          "1", List.of(), "127.0.0.1", builders.publicId(), "builders", true, T0, T0, T0, null, null, "r1")).join();
      store.createAdmin("ops", "adm_ops", AdminRole.OPERATOR, "digest-ops", T0, ALICE);
      store.revokeAdmin("ops", T0.plusSeconds(1), ALICE);
      revokedId = store.revokeToken(builders.id(), T0.plusSeconds(2), ALICE, "leaked", "token.revoke")
          .orElseThrow().publicId();
      // a write that bypasses the store's transactions is left in the operating system's cache
      try (Connection c = store.dataSource().getConnection(); Statement s = c.createStatement()) {
        s.executeUpdate("UPDATE accounts SET name = 'renamed, never forced' WHERE id = 'acc1'");
      }
      forced = PowerCutFileSystem.forces(live.resolve("tether.mv.db"));
      PowerCutFileSystem.cutPower(live, afterTheCut);
    }

    try (JdbcStore store = (JdbcStore) JdbcStore.open(JdbcStore.h2Url(afterTheCut), null, null)) {
      assertThat(store.findTokenByPublicId("acc1", revokedId)).as("the revoked token after the cut").hasValueSatisfying(t -> {
        assertThat(t.status()).isEqualTo(TokenStatus.REVOKED);
        assertThat(t.revokeReason()).isEqualTo("leaked");
      });
      assertThat(store.findToken("acc1", "default")).hasValueSatisfying(t -> assertThat(t.active()).isTrue());
      assertThat(store.findAdmin("ops")).hasValueSatisfying(a -> assertThat(a.active()).isFalse());
      assertThat(store.listDelegates("acc1")).extracting(DelegateRecord::id).containsExactly(delegateId);
      assertThat(store.listAudit("acc1", 100)).extracting(AuditEvent::action).contains("token.revoke");
      // the model loses what was not forced: the test could see a lost revoke
      try (Connection c = store.dataSource().getConnection(); Statement s = c.createStatement();
          ResultSet rs = s.executeQuery("SELECT name FROM accounts WHERE id = 'acc1'")) {
        assertThat(rs.next()).isTrue();
        assertThat(rs.getString(1)).isEqualTo("acme");
      }
    }
    assertThat(forced).as("forces of the database file before the cut: one per transaction").isGreaterThanOrEqualTo(6);
  }
}
