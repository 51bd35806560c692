package dev.tether.manager.store;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** Accounts and tokens over JDBC. Revocations and expiries are announced to the other replicas at commit. */
final class JdbcTokenStore implements TokenStore {

  private static final String TOKEN_COLUMNS = "id, account_id, name, public_id, key_blob, status,"
      + " created_at, created_by, expires_at, revoked_at, revoked_by, revoke_reason, last_used_at, description";

  private final Database db;

  JdbcTokenStore(Database db) {
    this.db = db;
  }

  @Override
  public Account createAccount(Account account, NewToken defaultToken, Actor by) {
    return db.inTransaction("create account", c -> {
      try (PreparedStatement ps = c.prepareStatement(
          "INSERT INTO accounts (id, name, created_at, created_by) VALUES (?, ?, ?, ?)")) {
        ps.setString(1, account.id());
        ps.setString(2, account.name());
        ps.setLong(3, account.createdAt().toEpochMilli());
        ps.setString(4, account.createdBy());
        ps.executeUpdate();
      }
      JdbcAuditStore.insert(c, account.createdAt(), by, "account.create", account.id(), null,
          "name=" + account.name());
      insertToken(c, defaultToken);
      JdbcAuditStore.insert(c, defaultToken.createdAt(), by, "token.create",
          account.id(), defaultToken.publicId(), "name=" + defaultToken.name());
      return account;
    });
  }

  @Override
  public Optional<Account> findAccount(String accountId) {
    return db.query("find account", c -> {
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
    return db.query("list accounts", c -> {
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
  public TokenRecord createToken(NewToken token, String auditDetail, Actor by) {
    return db.inTransaction("create token", c -> {
      long id = insertToken(c, token);
      JdbcAuditStore.insert(c, token.createdAt(), by, "token.create", token.accountId(),
          token.publicId(), auditDetail);
      return new TokenRecord(id, token.accountId(), token.name(), token.publicId(),
          token.sealedKey(), TokenStatus.ACTIVE, token.createdAt(), token.createdBy(),
          token.expiresAt(), null, null, null, null, token.description());
    });
  }

  @Override
  public Optional<TokenRecord> findToken(String accountId, String name) {
    return findOne("account_id = ? AND name = ?", accountId, name);
  }

  @Override
  public Optional<TokenRecord> findTokenByPublicId(String accountId, String publicId) {
    return findOne("account_id = ? AND public_id = ?", accountId, publicId);
  }

  @Override
  public Optional<TokenRecord> findTokenByValueFingerprint(String valueFingerprint) {
    return findOne("value_fingerprint = ?", valueFingerprint);
  }

  private Optional<TokenRecord> findOne(String where, String... params) {
    return db.query("find token", c -> {
      try (PreparedStatement ps = c.prepareStatement("SELECT " + TOKEN_COLUMNS + " FROM tokens WHERE " + where)) {
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
    return listWhere("account_id = ? ORDER BY created_at, id", accountId);
  }

  @Override
  public List<TokenRecord> listExpiringTokens() {
    return listWhere("status = 'ACTIVE' AND expires_at IS NOT NULL ORDER BY expires_at", null);
  }

  private List<TokenRecord> listWhere(String where, String param) {
    return db.query("list tokens", c -> {
      try (PreparedStatement ps = c.prepareStatement("SELECT " + TOKEN_COLUMNS + " FROM tokens WHERE " + where)) {
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
  public Optional<TokenRecord> revokeToken(long tokenRow, Instant at, Actor by, String reason, String action) {
    return end("revoke token", tokenRow, TokenStatus.REVOKED, at, by, reason, action);
  }

  @Override
  public Optional<TokenRecord> expireToken(long tokenRow, Instant at) {
    return end("expire token", tokenRow, TokenStatus.EXPIRED, at, Actor.SYSTEM, "expired", "token.expire");
  }

  /** ACTIVE to {@code status}, with its audit event and the announcement, in one transaction. */
  private Optional<TokenRecord> end(String what, long tokenRow, TokenStatus status, Instant at, Actor by,
      String reason, String action) {
    return db.inTransaction(what, c -> {
      try (PreparedStatement ps = c.prepareStatement("UPDATE tokens SET status = ?, revoked_at = ?,"
          + " revoked_by = ?, revoke_reason = ? WHERE id = ? AND status = 'ACTIVE'")) {
        ps.setString(1, status.name());
        ps.setLong(2, at.toEpochMilli());
        ps.setString(3, by.name());
        ps.setString(4, reason);
        ps.setLong(5, tokenRow);
        if (ps.executeUpdate() == 0) {
          return Optional.<TokenRecord>empty();
        }
      }
      TokenRecord ended;
      try (PreparedStatement ps = c.prepareStatement("SELECT " + TOKEN_COLUMNS + " FROM tokens WHERE id = ?")) {
        ps.setLong(1, tokenRow);
        try (ResultSet rs = ps.executeQuery()) {
          rs.next();
          ended = token(rs);
        }
      }
      JdbcAuditStore.insert(c, at, by, action, ended.accountId(), ended.publicId(),
          "name=" + ended.name() + " reason=" + reason);
      db.dialect().notify(c, RevocationFeed.REVOKED_CHANNEL, Long.toString(tokenRow));
      return Optional.of(ended);
    });
  }

  @Override
  public boolean deleteToken(TokenRecord token, Instant at, Actor by) {
    return db.inTransaction("delete token", c -> {
      try (PreparedStatement ps = c.prepareStatement("DELETE FROM tokens WHERE id = ? AND status <> 'ACTIVE'")) {
        ps.setLong(1, token.id());
        if (ps.executeUpdate() == 0) {
          return false;
        }
      }
      JdbcAuditStore.insert(c, at, by, "token.delete", token.accountId(), token.publicId(), "name=" + token.name());
      return true;
    });
  }

  @Override
  public void recordTokensUsed(Map<Long, Instant> lastUsed) {
    if (lastUsed.isEmpty()) {
      return;
    }
    db.inTransaction("record token use", c -> {
      try (PreparedStatement ps = c.prepareStatement("UPDATE tokens SET last_used_at = ? WHERE id = ?")) {
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
  public List<Long> tokensToCut(Collection<Long> tokenIds, Instant now) {
    if (tokenIds.isEmpty()) {
      return List.of();
    }
    return db.query("reconcile revocations", c -> {
      List<Long> alive = new ArrayList<>();
      String marks = String.join(",", Collections.nCopies(tokenIds.size(), "?"));
      try (PreparedStatement ps = c.prepareStatement("SELECT id FROM tokens WHERE status = 'ACTIVE'"
          + " AND (expires_at IS NULL OR expires_at > ?) AND id IN (" + marks + ")")) {
        ps.setLong(1, now.toEpochMilli());
        int i = 2;
        for (Long id : tokenIds) {
          ps.setLong(i++, id);
        }
        try (ResultSet rs = ps.executeQuery()) {
          while (rs.next()) {
            alive.add(rs.getLong(1));
          }
        }
      }
      List<Long> dead = new ArrayList<>(tokenIds);
      dead.removeAll(alive);
      return dead;
    });
  }

  @Override
  public Optional<Instant> tokenEndedAt(long tokenRow) {
    return db.query("read a token's end", c -> {
      try (PreparedStatement ps = c.prepareStatement(
          "SELECT revoked_at FROM tokens WHERE id = ? AND status <> 'ACTIVE'")) {
        ps.setLong(1, tokenRow);
        try (ResultSet rs = ps.executeQuery()) {
          return rs.next() ? Optional.ofNullable(Database.instant(rs, "revoked_at")) : Optional.<Instant>empty();
        }
      }
    });
  }

  @Override
  public Map<Long, SealedKey> sealedKeys() {
    return db.query("read sealed keys", c -> {
      try (PreparedStatement ps = c.prepareStatement("SELECT id, account_id, public_id, key_blob FROM tokens ORDER BY id");
          ResultSet rs = ps.executeQuery()) {
        Map<Long, SealedKey> out = new LinkedHashMap<>();
        while (rs.next()) {
          out.put(rs.getLong(1), new SealedKey(rs.getString(2), rs.getString(3), rs.getString(4)));
        }
        return out;
      }
    });
  }

  @Override
  public int replaceSealedKeys(List<Reseal> reseals) {
    if (reseals.isEmpty()) {
      return 0;
    }
    return db.inTransaction("re-seal token keys", c -> {
      int replaced = 0;
      try (PreparedStatement ps = c.prepareStatement("UPDATE tokens SET key_blob = ? WHERE id = ? AND key_blob = ?")) {
        for (Reseal r : reseals) {
          ps.setString(1, r.replacement());
          ps.setLong(2, r.tokenRow());
          ps.setString(3, r.old());
          replaced += ps.executeUpdate();
        }
      }
      return replaced;
    });
  }

  private static long insertToken(Connection c, NewToken t) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement("INSERT INTO tokens (account_id, name,"
        + " public_id, key_blob, status, created_at, created_by, expires_at, value_fingerprint, description)"
        + " VALUES (?, ?, ?, ?, 'ACTIVE', ?, ?, ?, ?, ?)", Statement.RETURN_GENERATED_KEYS)) {
      ps.setString(1, t.accountId());
      ps.setString(2, t.name());
      ps.setString(3, t.publicId());
      ps.setString(4, t.sealedKey());
      ps.setLong(5, t.createdAt().toEpochMilli());
      ps.setString(6, t.createdBy());
      Database.setInstant(ps, 7, t.expiresAt());
      ps.setString(8, t.valueFingerprint());
      ps.setString(9, t.description());
      ps.executeUpdate();
      try (ResultSet keys = ps.getGeneratedKeys()) {
        keys.next();
        return keys.getLong(1);
      }
    }
  }

  private static Account account(ResultSet rs) throws SQLException {
    return new Account(rs.getString("id"), rs.getString("name"), Database.instant(rs, "created_at"),
        rs.getString("created_by"));
  }

  private static TokenRecord token(ResultSet rs) throws SQLException {
    return new TokenRecord(rs.getLong("id"), rs.getString("account_id"), rs.getString("name"),
        rs.getString("public_id"), rs.getString("key_blob"), TokenStatus.valueOf(rs.getString("status")),
        Database.instant(rs, "created_at"), rs.getString("created_by"), Database.instant(rs, "expires_at"),
        Database.instant(rs, "revoked_at"), rs.getString("revoked_by"), rs.getString("revoke_reason"),
        Database.instant(rs, "last_used_at"), rs.getString("description"));
  }
}
