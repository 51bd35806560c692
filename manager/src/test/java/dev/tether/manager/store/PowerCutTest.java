package dev.tether.manager.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Instant;
import java.util.List;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The embedded database keeps what it acknowledged through a power cut, not only through a crash of
 * the process (e2e's {@code CrashDurabilityTest}): H2 writes a commit into the operating system's
 * cache and forces nothing to the disk for it, so the store forces every transaction before it
 * returns. The cut is modelled by {@link PowerCutFileSystem}: after it, the disk holds the files as
 * they were at their last force.
 */
class PowerCutTest {

  private static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");
  private static final Actor ALICE = Actor.named("alice");

  @TempDir Path dir;

  @AfterEach
  void disksWorkAgain() {
    PowerCutFileSystem.failForces(false);
  }

  /**
   * The power is cut right after each acknowledged write, before anything else is written (an image
   * of the disk per write), and each image holds that write: no write relies on a later one's force.
   */
  @Test
  void eachAcknowledgedWrite_isOnTheDiskWhenItReturns_andAWriteNeverForcedIsNot() throws Exception {
    Path live = dir.resolve("live");
    String builders;
    String delegateId;
    try (JdbcStore store = (JdbcStore) JdbcStore.open(PowerCutFileSystem.h2Url(live), null, null)) {
      store.createAccount(new Account("acc1", "acme", T0, "alice"),
          new NewToken("acc1", "default", "tid_aaaaaaaaaaaaaaaa", "c2VhbGVk", T0, "alice", null), ALICE);
      PowerCutFileSystem.cutPower(live, image("account created"));

      TokenRecord token = store.createToken(
          new NewToken("acc1", "builders", "tid_bbbbbbbbbbbbbbbb", "c2VhbGVk", T0, "alice", null), "", ALICE);
      builders = token.publicId();
      PowerCutFileSystem.cutPower(live, image("token created"));

      // the registrations' group commit: answered once the batch's transaction is forced
      delegateId = store.delegateConnected(new DelegateRecord(null, "acc1", "builder-1", "host-1", "SHELL_SCRIPT",
          "1", List.of(), "127.0.0.1", builders, "builders", true, T0, T0, T0, null, null, "r1")).join();
      PowerCutFileSystem.cutPower(live, image("delegate registered"));

      store.createAdmin("ops", "adm_ops", AdminRole.OPERATOR, "digest-ops", T0, ALICE);
      PowerCutFileSystem.cutPower(live, image("admin created"));

      store.revokeAdmin("ops", T0.plusSeconds(1), ALICE);
      PowerCutFileSystem.cutPower(live, image("admin revoked"));

      store.revokeToken(token.id(), T0.plusSeconds(2), ALICE, "leaked", "token.revoke").orElseThrow();
      PowerCutFileSystem.cutPower(live, image("token revoked"));

      // a write outside the store's transactions is left in the operating system's cache
      try (Connection c = store.dataSource().getConnection(); Statement s = c.createStatement()) {
        s.executeUpdate("UPDATE accounts SET name = 'renamed, never forced' WHERE id = 'acc1'");
      }
      PowerCutFileSystem.cutPower(live, image("never forced"));
    }

    after("account created", s -> assertThat(s.findToken("acc1", "default")).isPresent());
    after("token created", s -> assertThat(s.findTokenByPublicId("acc1", builders)).isPresent());
    after("delegate registered", s -> assertThat(s.listDelegates("acc1")).extracting(DelegateRecord::id)
        .containsExactly(delegateId));
    after("admin created", s -> assertThat(s.findAdmin("ops")).hasValueSatisfying(a -> assertThat(a.active()).isTrue()));
    after("admin revoked", s -> assertThat(s.findAdmin("ops")).hasValueSatisfying(a -> assertThat(a.active()).isFalse()));
    after("token revoked", s -> {
      assertThat(s.findTokenByPublicId("acc1", builders)).hasValueSatisfying(t -> {
        assertThat(t.status()).isEqualTo(TokenStatus.REVOKED);
        assertThat(t.revokeReason()).isEqualTo("leaked");
      });
      assertThat(s.listAudit("acc1", 100)).extracting(AuditEvent::action).contains("token.revoke");
    });
    // the model loses what was not forced, so each check above could have failed
    after("never forced", s -> assertThat(s.findAccount("acc1")).hasValueSatisfying(
        a -> assertThat(a.name()).isEqualTo("acme")));
  }

  /**
   * After a failed fsync the file's contents are uncertain (Linux may drop the pages it could not
   * write), so the store refuses every read and write until a restart reopens it from the disk, as
   * PostgreSQL does; the write whose force failed is not acknowledged.
   */
  @Test
  void aFailedForce_failsItsWrite_andTheStoreRefusesEverythingUntilReopened() {
    Path live = dir.resolve("live");
    try (JdbcStore store = (JdbcStore) JdbcStore.open(PowerCutFileSystem.h2Url(live), null, null)) {
      store.createAccount(new Account("acc1", "acme", T0, "alice"),
          new NewToken("acc1", "default", "tid_aaaaaaaaaaaaaaaa", "c2VhbGVk", T0, "alice", null), ALICE);
      long row = store.findToken("acc1", "default").orElseThrow().id();

      PowerCutFileSystem.failForces(true);
      assertThatThrownBy(() -> store.revokeToken(row, T0, ALICE, "leaked", "token.revoke"))
          .isInstanceOf(StoreException.class);
      PowerCutFileSystem.failForces(false);

      assertThatThrownBy(() -> store.findToken("acc1", "default")).isInstanceOf(StoreException.class)
          .hasMessageContaining("forcing a commit to the disk failed earlier").hasMessageContaining("restart the manager");
      assertThatThrownBy(() -> store.createToken(
          new NewToken("acc1", "more", "tid_cccccccccccccccc", "c2VhbGVk", T0, "alice", null), "", ALICE))
          .isInstanceOf(StoreException.class).hasMessageContaining("restart the manager");
      assertThatThrownBy(store::ping).as("readiness fails too").isInstanceOf(StoreException.class);
    }
    try (JdbcStore reopened = (JdbcStore) JdbcStore.open(PowerCutFileSystem.h2Url(live), null, null)) {
      assertThat(reopened.findToken("acc1", "default")).isPresent();
    }
  }

  /** A database whose commits cannot be forced (an H2 user without admin rights) is refused at start. */
  @Test
  void anH2UserThatCannotForceCommits_isRefusedAtStart_withTheReason() throws Exception {
    Path data = dir.resolve("data");
    JdbcStore.open(JdbcStore.h2Url(data), null, null).close();
    try (Connection c = DriverManager.getConnection(JdbcStore.h2Url(data), "", "");
        Statement s = c.createStatement()) {
      s.execute("CREATE USER app PASSWORD 'app-password'");
      s.execute("GRANT ALL ON SCHEMA PUBLIC TO app");
    }
    // an operator's own --db-url: with the manager's WRITE_DELAY=0 or CACHE_SIZE (settings that
    // need admin rights too) such a user fails even earlier
    String custom = JdbcStore.h2Url(data).replace(";WRITE_DELAY=0", "")
        .replace(";CACHE_SIZE=" + JdbcStore.H2_CACHE_KB, "");
    assertThat(custom).isNotEqualTo(JdbcStore.h2Url(data));
    assertThatThrownBy(() -> JdbcStore.open(custom, "app", "app-password"))
        .isInstanceOf(StoreException.class)
        .hasMessageContaining("forcing the database to the disk at start")
        .hasMessageContaining("CHECKPOINT SYNC, which needs a database user with admin rights");
  }

  private Path image(String moment) {
    return dir.resolve("cut-after-" + moment.replace(' ', '-'));
  }

  private void after(String moment, Consumer<JdbcStore> check) {
    try (JdbcStore store = (JdbcStore) JdbcStore.open(JdbcStore.h2Url(image(moment)), null, null)) {
      check.accept(store);
    }
  }
}
