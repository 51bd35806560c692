package dev.tether.manager.store;

import static java.util.Objects.requireNonNull;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Types;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import org.flywaydb.core.Flyway;

/**
 * {@link TetherStore} over JDBC: schema by Flyway migrations, connections from HikariCP, every
 * write in its own committed transaction. The SQL is portable between H2 and PostgreSQL.
 */
public final class JdbcStore implements TetherStore {

  private static final String UNIQUE_VIOLATION = "23505";
  private static final String TOKEN_COLUMNS = "id, account_id, name, public_id, key_blob, status,"
      + " created_at, created_by, expires_at, revoked_at, revoked_by, revoke_reason, last_used_at";
  private static final String DELEGATE_COLUMNS = "id, account_id, name, hostname, delegate_type,"
      + " version, tags, ip, token_public_id, token_name, connected, first_seen, connected_since,"
      + " last_heartbeat, disconnected_at, disconnect_reason, replica_id";

  private final HikariDataSource dataSource;
  private final boolean shared;

  /** Largest number of delegate registrations committed together. */
  private static final int CONNECTS_PER_COMMIT = 256;
  /** Registrations that may wait for their commit; more are refused at once (the delegate retries). */
  private static final int CONNECTS_WAITING = 20_000;
  /** A delegate waits 15 s for Registered: a registration not committed by then is of no use. */
  private static final java.time.Duration CONNECT_DEADLINE = java.time.Duration.ofSeconds(15);
  private final GroupCommit<DelegateRecord, String> connects = new GroupCommit<>("tether-delegate-connects",
      CONNECTS_PER_COMMIT, CONNECTS_WAITING, CONNECT_DEADLINE, com.google.common.base.Ticker.systemTicker(),
      this::delegatesConnectedTogether,
      this::delegateConnectedAlone);

  private JdbcStore(HikariDataSource dataSource, boolean shared) {
    this.dataSource = dataSource;
    this.shared = shared;
  }

  /**
   * Opens the database at {@code jdbcUrl}, migrating its schema to the current version.
   *
   * @param user may be null (embedded H2)
   * @param password may be null
   */
  public static JdbcStore open(String jdbcUrl, String user, String password) {
    requireNonNull(jdbcUrl, "jdbcUrl");
    HikariConfig config = new HikariConfig();
    config.setJdbcUrl(jdbcUrl);
    if (user != null) {
      config.setUsername(user);
    }
    if (password != null) {
      config.setPassword(password);
    }
    config.setPoolName("tether-store");
    config.setMaximumPoolSize(8);
    config.setConnectionTimeout(5_000);
    config.setAutoCommit(true);
    HikariDataSource dataSource = new HikariDataSource(config);
    try {
      Flyway.configure().dataSource(dataSource).locations("classpath:db/migration")
          .javaMigrations(new RevokeLegacyImportedTokens()).load().migrate();
    } catch (RuntimeException e) {
      dataSource.close();
      throw e;
    }
    return new JdbcStore(dataSource, jdbcUrl.startsWith("jdbc:postgresql:"));
  }

  /** The JDBC URL of an embedded H2 database file in {@code dataDir}. */
  public static String h2Url(java.nio.file.Path dataDir) {
    // WRITE_DELAY=0: a commit is on disk when it returns, so a crash right after loses nothing
    return "jdbc:h2:file:" + dataDir.toAbsolutePath().resolve("tether") + ";DB_CLOSE_ON_EXIT=FALSE;WRITE_DELAY=0";
  }

  @Override
  public Account createAccount(Account account, NewToken defaultToken) {
    return inTransaction("create account", c -> {
      try (PreparedStatement ps = c.prepareStatement(
          "INSERT INTO accounts (id, name, created_at, created_by) VALUES (?, ?, ?, ?)")) {
        ps.setString(1, account.id());
        ps.setString(2, account.name());
        ps.setLong(3, account.createdAt().toEpochMilli());
        ps.setString(4, account.createdBy());
        ps.executeUpdate();
      }
      insertAudit(c, account.createdAt(), account.createdBy(), "account.create", account.id(), null,
          "name=" + account.name());
      insertToken(c, defaultToken);
      insertAudit(c, defaultToken.createdAt(), defaultToken.createdBy(), "token.create",
          account.id(), defaultToken.publicId(), "name=" + defaultToken.name());
      return account;
    });
  }

  @Override
  public Optional<Account> findAccount(String accountId) {
    return query("find account", c -> {
      try (PreparedStatement ps = c.prepareStatement(
          "SELECT id, name, created_at, created_by FROM accounts WHERE id = ?")) {
        ps.setString(1, accountId);
        try (ResultSet rs = ps.executeQuery()) {
          return rs.next() ? Optional.of(account(rs)) : Optional.empty();
        }
      }
    });
  }

  @Override
  public List<Account> listAccounts() {
    return query("list accounts", c -> {
      try (PreparedStatement ps = c.prepareStatement(
          "SELECT id, name, created_at, created_by FROM accounts ORDER BY name");
          ResultSet rs = ps.executeQuery()) {
        List<Account> out = new ArrayList<>();
        while (rs.next()) {
          out.add(account(rs));
        }
        return out;
      }
    });
  }

  @Override
  public TokenRecord createToken(NewToken token, String auditDetail) {
    return inTransaction("create token", c -> {
      long id = insertToken(c, token);
      insertAudit(c, token.createdAt(), token.createdBy(), "token.create", token.accountId(),
          token.publicId(), auditDetail);
      return new TokenRecord(id, token.accountId(), token.name(), token.publicId(),
          token.sealedKey(), TokenStatus.ACTIVE, token.createdAt(), token.createdBy(),
          token.expiresAt(), null, null, null, null);
    });
  }

  @Override
  public Optional<TokenRecord> findToken(String accountId, String name) {
    return findOneToken("account_id = ? AND name = ?", accountId, name);
  }

  @Override
  public Optional<TokenRecord> findTokenByPublicId(String accountId, String publicId) {
    return findOneToken("account_id = ? AND public_id = ?", accountId, publicId);
  }

  @Override
  public Optional<TokenRecord> findTokenByValueFingerprint(String valueFingerprint) {
    return findOneToken("value_fingerprint = ?", valueFingerprint);
  }

  private Optional<TokenRecord> findOneToken(String where, String... params) {
    return query("find token", c -> {
      try (PreparedStatement ps = c.prepareStatement(
          "SELECT " + TOKEN_COLUMNS + " FROM tokens WHERE " + where)) {
        for (int i = 0; i < params.length; i++) {
          ps.setString(i + 1, params[i]);
        }
        try (ResultSet rs = ps.executeQuery()) {
          return rs.next() ? Optional.of(token(rs)) : Optional.empty();
        }
      }
    });
  }

  @Override
  public List<TokenRecord> listTokens(String accountId) {
    return listTokensWhere("account_id = ? ORDER BY created_at, id", accountId);
  }

  @Override
  public List<TokenRecord> listExpiringTokens() {
    return listTokensWhere("status = 'ACTIVE' AND expires_at IS NOT NULL ORDER BY expires_at", null);
  }

  private List<TokenRecord> listTokensWhere(String where, String param) {
    return query("list tokens", c -> {
      try (PreparedStatement ps = c.prepareStatement(
          "SELECT " + TOKEN_COLUMNS + " FROM tokens WHERE " + where)) {
        if (param != null) {
          ps.setString(1, param);
        }
        try (ResultSet rs = ps.executeQuery()) {
          List<TokenRecord> out = new ArrayList<>();
          while (rs.next()) {
            out.add(token(rs));
          }
          return out;
        }
      }
    });
  }

  @Override
  public Optional<TokenRecord> revokeToken(
      long tokenId, Instant at, String by, String reason, String action) {
    return inTransaction("revoke token", c -> {
      try (PreparedStatement ps = c.prepareStatement("UPDATE tokens SET status = 'REVOKED',"
          + " revoked_at = ?, revoked_by = ?, revoke_reason = ? WHERE id = ? AND status = 'ACTIVE'")) {
        ps.setLong(1, at.toEpochMilli());
        ps.setString(2, by);
        ps.setString(3, reason);
        ps.setLong(4, tokenId);
        if (ps.executeUpdate() == 0) {
          return Optional.<TokenRecord>empty();
        }
      }
      TokenRecord revoked;
      try (PreparedStatement ps = c.prepareStatement(
          "SELECT " + TOKEN_COLUMNS + " FROM tokens WHERE id = ?")) {
        ps.setLong(1, tokenId);
        try (ResultSet rs = ps.executeQuery()) {
          rs.next();
          revoked = token(rs);
        }
      }
      insertAudit(c, at, by, action, revoked.accountId(), revoked.publicId(),
          "name=" + revoked.name() + " reason=" + reason);
      if (shared) {
        // delivered to every replica's LISTEN connection when, and only if, this transaction commits
        try (PreparedStatement ps = c.prepareStatement("SELECT pg_notify(?, ?)")) {
          ps.setString(1, REVOCATION_CHANNEL);
          ps.setString(2, Long.toString(tokenId));
          ps.execute();
        }
      }
      return Optional.of(revoked);
    });
  }

  @Override
  public boolean deleteToken(TokenRecord token, Instant at, String by) {
    return inTransaction("delete token", c -> {
      try (PreparedStatement ps = c.prepareStatement(
          "DELETE FROM tokens WHERE id = ? AND status = 'REVOKED'")) {
        ps.setLong(1, token.id());
        if (ps.executeUpdate() == 0) {
          return false;
        }
      }
      insertAudit(c, at, by, "token.delete", token.accountId(), token.publicId(),
          "name=" + token.name());
      return true;
    });
  }

  @Override
  public void recordTokensUsed(Map<Long, Instant> lastUsed) {
    if (lastUsed.isEmpty()) {
      return;
    }
    inTransaction("record token use", c -> {
      try (PreparedStatement ps = c.prepareStatement(
          "UPDATE tokens SET last_used_at = ? WHERE id = ?")) {
        for (Map.Entry<Long, Instant> e : lastUsed.entrySet()) {
          ps.setLong(1, e.getValue().toEpochMilli());
          ps.setLong(2, e.getKey());
          ps.addBatch();
        }
        ps.executeBatch();
      }
      return null;
    });
  }

  @Override
  public String delegateConnected(DelegateRecord d) {
    // many delegates connecting at once (a manager restart) share commits instead of queueing on them
    return connects.submit(d);
  }

  private String delegateConnectedAlone(DelegateRecord d) {
    try {
      return inTransaction("record delegate", c -> recordDelegate(c, d));
    } catch (DuplicateException raced) {
      // the same delegate connected twice at once and the other insert won: update its row
      return inTransaction("record delegate", c -> recordDelegate(c, d));
    }
  }

  private List<String> delegatesConnectedTogether(List<DelegateRecord> batch) {
    return inTransaction("record delegates", c -> {
      List<String> ids = new ArrayList<>(batch.size());
      for (DelegateRecord d : batch) {
        ids.add(recordDelegate(c, d));
      }
      return ids;
    });
  }

  private static String recordDelegate(Connection c, DelegateRecord d) throws SQLException {
    String existing = null;
    try (PreparedStatement ps = c.prepareStatement(
        "SELECT id FROM delegates WHERE account_id = ? AND name = ? AND hostname = ?")) {
      ps.setString(1, d.accountId());
      ps.setString(2, d.name());
      ps.setString(3, d.hostname());
      try (ResultSet rs = ps.executeQuery()) {
        if (rs.next()) {
          existing = rs.getString(1);
        }
      }
    }
    String tags = String.join(",", d.tags());
    if (existing != null) {
      try (PreparedStatement ps = c.prepareStatement("UPDATE delegates SET delegate_type = ?,"
          + " version = ?, tags = ?, ip = ?, token_public_id = ?, token_name = ?, connected = TRUE,"
          + " connected_since = ?, last_heartbeat = ?, disconnected_at = NULL,"
          + " disconnect_reason = NULL, replica_id = ? WHERE id = ?")) {
        ps.setString(1, d.delegateType());
        ps.setString(2, d.version());
        ps.setString(3, tags);
        ps.setString(4, d.ip());
        ps.setString(5, d.tokenPublicId());
        ps.setString(6, d.tokenName());
        ps.setLong(7, d.connectedSince().toEpochMilli());
        ps.setLong(8, d.connectedSince().toEpochMilli());
        ps.setString(9, d.replicaId());
        ps.setString(10, existing);
        ps.executeUpdate();
      }
      return existing;
    }
    String id = d.id() != null ? d.id() : "dlg_" + UUID.randomUUID().toString().replace("-", "");
    try (PreparedStatement ps = c.prepareStatement("INSERT INTO delegates (" + DELEGATE_COLUMNS
        + ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, TRUE, ?, ?, ?, NULL, NULL, ?)")) {
      ps.setString(1, id);
      ps.setString(2, d.accountId());
      ps.setString(3, d.name());
      ps.setString(4, d.hostname());
      ps.setString(5, d.delegateType());
      ps.setString(6, d.version());
      ps.setString(7, tags);
      ps.setString(8, d.ip());
      ps.setString(9, d.tokenPublicId());
      ps.setString(10, d.tokenName());
      ps.setLong(11, d.connectedSince().toEpochMilli());
      ps.setLong(12, d.connectedSince().toEpochMilli());
      ps.setLong(13, d.connectedSince().toEpochMilli());
      ps.setString(14, d.replicaId());
      ps.executeUpdate();
    }
    return id;
  }

  @Override
  public void delegateDisconnected(String delegateId, Instant connectedSince, Instant at, String reason) {
    inTransaction("record delegate disconnect", c -> {
      try (PreparedStatement ps = c.prepareStatement("UPDATE delegates SET connected = FALSE,"
          + " disconnected_at = ?, disconnect_reason = ? WHERE id = ? AND connected_since = ?")) {
        ps.setLong(1, at.toEpochMilli());
        ps.setString(2, reason);
        ps.setString(3, delegateId);
        ps.setLong(4, connectedSince.toEpochMilli());
        ps.executeUpdate();
      }
      return null;
    });
  }

  @Override
  public void recordHeartbeats(Map<String, Instant> lastHeartbeats) {
    if (lastHeartbeats.isEmpty()) {
      return;
    }
    inTransaction("record heartbeats", c -> {
      try (PreparedStatement ps = c.prepareStatement(
          "UPDATE delegates SET last_heartbeat = ? WHERE id = ?")) {
        for (Map.Entry<String, Instant> e : lastHeartbeats.entrySet()) {
          ps.setLong(1, e.getValue().toEpochMilli());
          ps.setString(2, e.getKey());
          ps.addBatch();
        }
        ps.executeBatch();
      }
      return null;
    });
  }

  @Override
  public int disconnectAllDelegates(Instant at, String reason) {
    return inTransaction("disconnect delegates", c -> {
      try (PreparedStatement ps = c.prepareStatement("UPDATE delegates SET connected = FALSE,"
          + " disconnected_at = ?, disconnect_reason = ? WHERE connected = TRUE")) {
        ps.setLong(1, at.toEpochMilli());
        ps.setString(2, reason);
        return ps.executeUpdate();
      }
    });
  }

  @Override
  public List<DelegateRecord> listDelegates(String accountId) {
    return query("list delegates", c -> {
      String sql = "SELECT " + DELEGATE_COLUMNS + " FROM delegates"
          + (accountId == null ? "" : " WHERE account_id = ?") + " ORDER BY account_id, name, hostname";
      try (PreparedStatement ps = c.prepareStatement(sql)) {
        if (accountId != null) {
          ps.setString(1, accountId);
        }
        try (ResultSet rs = ps.executeQuery()) {
          List<DelegateRecord> out = new ArrayList<>();
          while (rs.next()) {
            out.add(delegate(rs));
          }
          return out;
        }
      }
    });
  }

  @Override
  public void audit(Instant at, String actor, String action, String accountId, String tokenPublicId,
      String detail) {
    inTransaction("write audit event", c -> {
      insertAudit(c, at, actor, action, accountId, tokenPublicId, detail);
      return null;
    });
  }

  @Override
  public List<AuditEvent> listAudit(String accountId, int limit) {
    return query("list audit events", c -> {
      String sql = "SELECT id, at, actor, action, account_id, token_public_id, detail FROM audit_events"
          + (accountId == null ? "" : " WHERE account_id = ?") + " ORDER BY id DESC";
      try (PreparedStatement ps = c.prepareStatement(sql)) {
        ps.setMaxRows(limit);
        if (accountId != null) {
          ps.setString(1, accountId);
        }
        try (ResultSet rs = ps.executeQuery()) {
          List<AuditEvent> out = new ArrayList<>();
          while (rs.next()) {
            out.add(new AuditEvent(rs.getLong(1), Instant.ofEpochMilli(rs.getLong(2)),
                rs.getString(3), rs.getString(4), rs.getString(5), rs.getString(6), rs.getString(7)));
          }
          return out;
        }
      }
    });
  }

  @Override
  public void delegatesOfReplicaStopped(String replicaId, Instant at) {
    inTransaction("disconnect delegates of a stopped replica", c -> {
      try (PreparedStatement ps = c.prepareStatement("UPDATE delegates SET connected = FALSE,"
          + " disconnected_at = ?, disconnect_reason = 'manager stopped' WHERE connected = TRUE AND replica_id = ?")) {
        ps.setLong(1, at.toEpochMilli());
        ps.setString(2, replicaId);
        return ps.executeUpdate();
      }
    });
  }

  @Override
  public boolean shared() {
    return shared;
  }

  @Override
  public void replicaSeen(Replica r) {
    inTransaction("register replica", c -> {
      try (PreparedStatement ps = c.prepareStatement("UPDATE replicas SET last_seen = ?, address = ? WHERE id = ?")) {
        ps.setLong(1, r.lastSeen().toEpochMilli());
        ps.setString(2, r.address());
        ps.setString(3, r.id());
        if (ps.executeUpdate() > 0) {
          return null;
        }
      }
      try (PreparedStatement ps = c.prepareStatement(
          "INSERT INTO replicas (id, address, started_at, last_seen) VALUES (?, ?, ?, ?)")) {
        ps.setString(1, r.id());
        ps.setString(2, r.address());
        ps.setLong(3, r.startedAt().toEpochMilli());
        ps.setLong(4, r.lastSeen().toEpochMilli());
        ps.executeUpdate();
      }
      return null;
    });
  }

  @Override
  public List<Replica> listReplicas() {
    return query("list replicas", c -> {
      try (PreparedStatement ps = c.prepareStatement(
          "SELECT id, address, started_at, last_seen FROM replicas ORDER BY started_at, id");
          ResultSet rs = ps.executeQuery()) {
        List<Replica> out = new ArrayList<>();
        while (rs.next()) {
          out.add(new Replica(rs.getString(1), rs.getString(2), Instant.ofEpochMilli(rs.getLong(3)),
              Instant.ofEpochMilli(rs.getLong(4))));
        }
        return out;
      }
    });
  }

  @Override
  public int disconnectDelegatesOfLostReplicas(Instant cutoff, Instant at) {
    // the lost replicas are read in the transaction that updates their delegates, as in the single
    // statement this replaces; then one replica at a time, by the (replica_id, connected) index, so a
    // lost replica whose delegates are already shown disconnected costs a lookup, not a full read
    return inTransaction("disconnect delegates of lost replicas", c -> {
      List<String> lost = new ArrayList<>();
      try (PreparedStatement ps = c.prepareStatement("SELECT id FROM replicas WHERE last_seen < ?")) {
        ps.setLong(1, cutoff.toEpochMilli());
        try (ResultSet rs = ps.executeQuery()) {
          while (rs.next()) {
            lost.add(rs.getString(1));
          }
        }
      }
      int n = 0;
      try (PreparedStatement ps = c.prepareStatement("UPDATE delegates SET connected = FALSE,"
          + " disconnected_at = ?, disconnect_reason = ? WHERE replica_id = ? AND connected = TRUE")) {
        for (String replica : lost) {
          ps.setLong(1, at.toEpochMilli());
          ps.setString(2, "replica lost: " + replica);
          ps.setString(3, replica);
          n += ps.executeUpdate();
        }
      }
      return n;
    });
  }

  @Override
  public void recordRevocationAck(long tokenId, String replicaId, int streamsClosed, Instant at) {
    // a replica may cut a token's streams in more than one pass (notification, its own revoke,
    // reconciliation): its confirmation is the sum
    for (int attempt = 0; attempt < 3; attempt++) {
      try {
        inTransaction("record revocation ack", c -> {
          try (PreparedStatement ps = c.prepareStatement("UPDATE revocation_acks SET streams_closed ="
              + " streams_closed + ?, at = ? WHERE token_id = ? AND replica_id = ?")) {
            ps.setInt(1, streamsClosed);
            ps.setLong(2, at.toEpochMilli());
            ps.setLong(3, tokenId);
            ps.setString(4, replicaId);
            if (ps.executeUpdate() > 0) {
              return null;
            }
          }
          try (PreparedStatement ps = c.prepareStatement("INSERT INTO revocation_acks (token_id, replica_id,"
              + " streams_closed, at) VALUES (?, ?, ?, ?)")) {
            ps.setLong(1, tokenId);
            ps.setString(2, replicaId);
            ps.setInt(3, streamsClosed);
            ps.setLong(4, at.toEpochMilli());
            ps.executeUpdate();
          }
          return null;
        });
        return;
      } catch (DuplicateException raced) {
        // another pass of the same replica inserted first: add to its row
      }
    }
  }

  @Override
  public Map<String, Integer> revocationAcks(long tokenId) {
    return query("read revocation acks", c -> {
      try (PreparedStatement ps = c.prepareStatement(
          "SELECT replica_id, streams_closed FROM revocation_acks WHERE token_id = ?")) {
        ps.setLong(1, tokenId);
        try (ResultSet rs = ps.executeQuery()) {
          Map<String, Integer> out = new java.util.TreeMap<>();
          while (rs.next()) {
            out.put(rs.getString(1), rs.getInt(2));
          }
          return out;
        }
      }
    });
  }

  @Override
  public List<Long> revokedAmong(java.util.Collection<Long> tokenIds) {
    if (tokenIds.isEmpty()) {
      return List.of();
    }
    return query("reconcile revocations", c -> {
      List<Long> active = new ArrayList<>();
      String marks = String.join(",", java.util.Collections.nCopies(tokenIds.size(), "?"));
      try (PreparedStatement ps = c.prepareStatement(
          "SELECT id FROM tokens WHERE status = 'ACTIVE' AND id IN (" + marks + ")")) {
        int i = 1;
        for (Long id : tokenIds) {
          ps.setLong(i++, id);
        }
        try (ResultSet rs = ps.executeQuery()) {
          while (rs.next()) {
            active.add(rs.getLong(1));
          }
        }
      }
      List<Long> revoked = new ArrayList<>(tokenIds);
      revoked.removeAll(active);
      return revoked;
    });
  }

  /** The JDBC URL, user and password this store was opened with (for a LISTEN connection). */
  public com.zaxxer.hikari.HikariDataSource dataSource() {
    return dataSource;
  }

  @Override
  public void close() {
    connects.close();
    dataSource.close();
  }

  private static long insertToken(Connection c, NewToken t) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement("INSERT INTO tokens (account_id, name,"
        + " public_id, key_blob, status, created_at, created_by, expires_at, value_fingerprint)"
        + " VALUES (?, ?, ?, ?, 'ACTIVE', ?, ?, ?, ?)", Statement.RETURN_GENERATED_KEYS)) {
      ps.setString(1, t.accountId());
      ps.setString(2, t.name());
      ps.setString(3, t.publicId());
      ps.setString(4, t.sealedKey());
      ps.setLong(5, t.createdAt().toEpochMilli());
      ps.setString(6, t.createdBy());
      setNullableInstant(ps, 7, t.expiresAt());
      ps.setString(8, t.valueFingerprint());
      ps.executeUpdate();
      try (ResultSet keys = ps.getGeneratedKeys()) {
        keys.next();
        return keys.getLong(1);
      }
    }
  }

  private static void insertAudit(Connection c, Instant at, String actor, String action,
      String accountId, String tokenPublicId, String detail) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement("INSERT INTO audit_events (at, actor, action,"
        + " account_id, token_public_id, detail) VALUES (?, ?, ?, ?, ?, ?)")) {
      ps.setLong(1, at.toEpochMilli());
      ps.setString(2, actor);
      ps.setString(3, action);
      ps.setString(4, accountId);
      ps.setString(5, tokenPublicId);
      ps.setString(6, detail.length() > 1024 ? detail.substring(0, 1024) : detail);
      ps.executeUpdate();
    }
  }

  private static void setNullableInstant(PreparedStatement ps, int index, Instant value)
      throws SQLException {
    if (value == null) {
      ps.setNull(index, Types.BIGINT);
    } else {
      ps.setLong(index, value.toEpochMilli());
    }
  }

  private static Instant instant(ResultSet rs, String column) throws SQLException {
    long value = rs.getLong(column);
    return rs.wasNull() ? null : Instant.ofEpochMilli(value);
  }

  private static Account account(ResultSet rs) throws SQLException {
    return new Account(rs.getString("id"), rs.getString("name"), instant(rs, "created_at"),
        rs.getString("created_by"));
  }

  private static TokenRecord token(ResultSet rs) throws SQLException {
    return new TokenRecord(rs.getLong("id"), rs.getString("account_id"), rs.getString("name"),
        rs.getString("public_id"), rs.getString("key_blob"), TokenStatus.valueOf(rs.getString("status")),
        instant(rs, "created_at"), rs.getString("created_by"), instant(rs, "expires_at"),
        instant(rs, "revoked_at"), rs.getString("revoked_by"), rs.getString("revoke_reason"),
        instant(rs, "last_used_at"));
  }

  private static DelegateRecord delegate(ResultSet rs) throws SQLException {
    String tags = rs.getString("tags");
    return new DelegateRecord(rs.getString("id"), rs.getString("account_id"), rs.getString("name"),
        rs.getString("hostname"), rs.getString("delegate_type"), rs.getString("version"),
        tags.isEmpty() ? List.of() : Arrays.asList(tags.split(",")), rs.getString("ip"),
        rs.getString("token_public_id"), rs.getString("token_name"), rs.getBoolean("connected"),
        instant(rs, "first_seen"), instant(rs, "connected_since"), instant(rs, "last_heartbeat"),
        instant(rs, "disconnected_at"), rs.getString("disconnect_reason"), rs.getString("replica_id"));
  }

  @FunctionalInterface
  private interface SqlWork<T> {
    T run(Connection c) throws SQLException;
  }

  private <T> T query(String what, SqlWork<T> work) {
    try (Connection c = dataSource.getConnection()) {
      return work.run(c);
    } catch (SQLException e) {
      throw new StoreException("database error during " + what + ": " + e.getMessage(), e);
    }
  }

  private <T> T inTransaction(String what, SqlWork<T> work) {
    try (Connection c = dataSource.getConnection()) {
      c.setAutoCommit(false);
      try {
        T result = work.run(c);
        c.commit();
        return result;
      } catch (SQLException | RuntimeException e) {
        c.rollback();
        throw e;
      } finally {
        c.setAutoCommit(true);
      }
    } catch (SQLException e) {
      if (UNIQUE_VIOLATION.equals(e.getSQLState())) {
        throw new DuplicateException("duplicate during " + what, e);
      }
      throw new StoreException("database error during " + what + ": " + e.getMessage(), e);
    }
  }
}
