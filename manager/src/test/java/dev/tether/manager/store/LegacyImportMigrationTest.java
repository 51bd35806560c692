package dev.tether.manager.store;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.tether.manager.testing.Postgres;
import java.nio.file.Files;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.util.List;
import java.util.stream.Stream;
import org.flywaydb.core.Flyway;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.slf4j.LoggerFactory;

/**
 * Upgrading a database written before custom tokens were derived through Argon2id: every active
 * imported token is revoked, with an audit event and a WARN that tell the operator to import it
 * again; generated tokens are left alone. On embedded H2 and on a real PostgreSQL.
 */
class LegacyImportMigrationTest {

  private static final long T0 = 1_795_000_000_000L;

  private JdbcStore store;
  private final ListAppender<ILoggingEvent> warnings = new ListAppender<>();
  private final Logger log = (Logger) LoggerFactory.getLogger(RevokeLegacyImportedTokens.class);

  static Stream<String> databases() {
    return Stream.of("h2", "postgresql");
  }

  @AfterEach
  void close() {
    log.detachAppender(warnings);
    if (store != null) {
      store.close();
    }
  }

  @ParameterizedTest
  @MethodSource("databases")
  void upgrading_revokesEveryActiveImportedToken_andOnlyThose(String kind) throws Exception {
    String url = kind.equals("h2")
        ? JdbcStore.h2Url(Files.createTempDirectory("tether-h2"))
        : Postgres.newDatabase();
    String user = kind.equals("h2") ? null : "postgres";
    // the database as version 3 left it
    Flyway.configure().dataSource(url, user, user).locations("classpath:db/migration").target("3").load().migrate();
    try (Connection c = DriverManager.getConnection(url, user, user)) {
      exec(c, "INSERT INTO accounts (id, name, created_at, created_by) VALUES ('acc1', 'acme', ?, 'admin')");
      token(c, 1, "default", "tid_aaaaaaaaaaaaaaaa", "ACTIVE", "name=default");
      token(c, 2, "legacy", "tid_bbbbbbbbbbbbbbbb", "ACTIVE", "name=legacy imported");
      token(c, 3, "expiring", "tid_cccccccccccccccc", "ACTIVE", "name=expiring imported expires_at=2027-01-01T00:00:00Z");
      token(c, 4, "imported", "tid_dddddddddddddddd", "ACTIVE", "name=imported");
      token(c, 5, "gone", "tid_eeeeeeeeeeeeeeee", "REVOKED", "name=gone imported");
    }
    warnings.start();
    log.addAppender(warnings);

    store = JdbcStore.open(url, user, user);

    assertThat(status("default")).isEqualTo(TokenStatus.ACTIVE);
    assertThat(status("imported")).as("a generated token named 'imported'").isEqualTo(TokenStatus.ACTIVE);
    assertThat(status("gone")).isEqualTo(TokenStatus.REVOKED);
    for (String name : List.of("legacy", "expiring")) {
      TokenRecord revoked = store.findToken("acc1", name).orElseThrow();
      assertThat(revoked.status()).isEqualTo(TokenStatus.REVOKED);
      assertThat(revoked.revokedBy()).isEqualTo("tether-upgrade");
      assertThat(revoked.revokeReason()).startsWith("imported before schema version 4.1, whose public id was a fast hash");
    }
    assertThat(store.listAudit("acc1", 100)).filteredOn(e -> e.action().equals("token.revoke"))
        .extracting(AuditEvent::actor, AuditEvent::tokenPublicId)
        .containsExactlyInAnyOrder(org.assertj.core.groups.Tuple.tuple("tether-upgrade", "tid_bbbbbbbbbbbbbbbb"),
            org.assertj.core.groups.Tuple.tuple("tether-upgrade", "tid_cccccccccccccccc"));
    assertThat(warnings.list).extracting(ILoggingEvent::getFormattedMessage)
        .anySatisfy(m -> assertThat(m).startsWith("token 'legacy' of account acc1 (tid_bbbbbbbbbbbbbbbb) was imported"
            + " before schema version 4.1 and is now revoked"))
        .anySatisfy(m -> assertThat(m).startsWith("token 'expiring' of account acc1"))
        .hasSize(2);

    // a second start finds the migration done and changes nothing
    store.close();
    store = JdbcStore.open(url, user, user);
    assertThat(store.listAudit("acc1", 100)).filteredOn(e -> e.action().equals("token.revoke")).hasSize(2);
  }

  private TokenStatus status(String name) {
    return store.findToken("acc1", name).orElseThrow().status();
  }

  private static void token(Connection c, long id, String name, String publicId, String status, String detail)
      throws Exception {
    try (PreparedStatement ps = c.prepareStatement("INSERT INTO tokens (id, account_id, name, public_id, key_blob,"
        + " status, created_at, created_by) VALUES (?, 'acc1', ?, ?, 'c2VhbGVk', ?, ?, 'admin')")) {
      ps.setLong(1, id);
      ps.setString(2, name);
      ps.setString(3, publicId);
      ps.setString(4, status);
      ps.setLong(5, T0);
      ps.executeUpdate();
    }
    try (PreparedStatement ps = c.prepareStatement("INSERT INTO audit_events (at, actor, action, account_id,"
        + " token_public_id, detail) VALUES (?, 'admin', 'token.create', 'acc1', ?, ?)")) {
      ps.setLong(1, T0);
      ps.setString(2, publicId);
      ps.setString(3, detail);
      ps.executeUpdate();
    }
  }

  private static void exec(Connection c, String sql) throws Exception {
    try (PreparedStatement ps = c.prepareStatement(sql)) {
      ps.setLong(1, T0);
      ps.executeUpdate();
    }
  }
}
