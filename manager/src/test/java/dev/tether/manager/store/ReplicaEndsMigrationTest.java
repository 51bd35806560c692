package dev.tether.manager.store;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tether.manager.testing.Postgres;
import java.nio.file.Files;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.time.Instant;
import java.util.stream.Stream;
import org.flywaydb.core.Flyway;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Upgrading to schema version 10, where a replica's end is one row: a record an earlier version
 * left connected without a replica row to read an end from is shown disconnected at the last time
 * its delegate was heard of; a record of a replica that is still there is left to that replica's
 * end. On embedded H2 and on a real PostgreSQL.
 */
class ReplicaEndsMigrationTest {

  private static final long T0 = 1_795_000_000_000L;

  private JdbcStore store;

  static Stream<String> databases() {
    return Stream.of("h2", "postgresql");
  }

  @AfterEach
  void close() {
    if (store != null) {
      store.close();
    }
  }

  @ParameterizedTest
  @MethodSource("databases")
  void upgrading_showsRecordsWithoutAReplicaDisconnected_andLeavesTheOthers(String kind) throws Exception {
    String url = kind.equals("h2")
        ? JdbcStore.h2Url(Files.createTempDirectory("tether-h2"))
        : Postgres.newDatabase();
    String user = kind.equals("h2") ? null : "postgres";
    Flyway.configure().dataSource(url, user, user).locations("classpath:db/migration")
        .javaMigrations(new RevokeLegacyImportedTokens(), new TagsAsJson()).target("9").load().migrate();
    try (Connection c = DriverManager.getConnection(url, user, user)) {
      try (PreparedStatement ps = c.prepareStatement("INSERT INTO accounts (id, name, created_at, created_by)"
          + " VALUES ('acc1', 'acme', ?, 'admin')")) {
        ps.setLong(1, T0);
        ps.executeUpdate();
      }
      try (PreparedStatement ps = c.prepareStatement("INSERT INTO replicas (id, address, started_at, last_seen)"
          + " VALUES ('rep_live', '127.0.0.1:1', ?, ?)")) {
        ps.setLong(1, T0);
        ps.setLong(2, T0);
        ps.executeUpdate();
      }
      delegate(c, "dlg_1", "no-replica", null, true);
      delegate(c, "dlg_2", "forgotten-replica", "rep_gone", true);
      delegate(c, "dlg_3", "live-replica", "rep_live", true);
      delegate(c, "dlg_4", "ended-itself", "rep_gone", false);
    }

    store = JdbcStore.open(url, user, user);

    for (String name : new String[] {"no-replica", "forgotten-replica"}) {
      DelegateRecord d = find(name);
      assertThat(d.connected()).as(name).isFalse();
      assertThat(d.disconnectedAt()).as(name).isEqualTo(Instant.ofEpochMilli(T0 + 7_000));
      assertThat(d.disconnectReason()).as(name).isEqualTo("manager restarted");
    }
    assertThat(find("live-replica").connected()).isTrue();
    assertThat(find("ended-itself").disconnectReason()).isEqualTo("stream ended");
    assertThat(find("ended-itself").disconnectedAt()).isEqualTo(Instant.ofEpochMilli(T0 + 9_000));

    store.replicaEnded("rep_live", Instant.ofEpochMilli(T0 + 20_000), "manager stopped");
    assertThat(find("live-replica").connected()).isFalse();
    assertThat(find("live-replica").disconnectReason()).isEqualTo("manager stopped");
  }

  private DelegateRecord find(String name) {
    return store.listDelegates("acc1").stream().filter(d -> d.name().equals(name)).findFirst().orElseThrow();
  }

  private static void delegate(Connection c, String id, String name, String replica, boolean connected)
      throws Exception {
    try (PreparedStatement ps = c.prepareStatement("INSERT INTO delegates (id, account_id, name, hostname,"
        + " delegate_type, version, tags, ip, token_public_id, token_name, connected, first_seen, connected_since,"
        + " last_heartbeat, disconnected_at, disconnect_reason, replica_id)"
        + " VALUES (?, 'acc1', ?, 'host', 'SHELL_SCRIPT', '1', '[]', '127.0.0.1', 'tid_aaaaaaaaaaaaaaaa',"
        + " 'default', ?, ?, ?, ?, ?, ?, ?)")) {
      ps.setString(1, id);
      ps.setString(2, name);
      ps.setBoolean(3, connected);
      ps.setLong(4, T0);
      ps.setLong(5, T0 + 1_000);
      ps.setLong(6, T0 + 7_000);
      if (connected) {
        ps.setNull(7, java.sql.Types.BIGINT);
        ps.setNull(8, java.sql.Types.VARCHAR);
      } else {
        ps.setLong(7, T0 + 9_000);
        ps.setString(8, "stream ended");
      }
      ps.setString(9, replica);
      ps.executeUpdate();
    }
  }
}
