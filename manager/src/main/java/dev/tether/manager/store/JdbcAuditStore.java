package dev.tether.manager.store;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/** The audit trail over JDBC; {@link #insert} also writes the events of other stores' transactions. */
final class JdbcAuditStore implements AuditStore {

  private static final int MAX_DETAIL = 1024;

  private final Database db;

  JdbcAuditStore(Database db) {
    this.db = db;
  }

  @Override
  public void audit(Instant at, Actor actor, String action, String accountId, String tokenPublicId, String detail) {
    db.inTransaction("write audit event", c -> {
      insert(c, at, actor, action, accountId, tokenPublicId, detail);
      return null;
    });
  }

  @Override
  public List<AuditEvent> listAudit(String accountId, String actor, int limit) {
    return db.query("list audit events", c -> {
      List<String> where = new ArrayList<>();
      List<String> values = new ArrayList<>();
      if (accountId != null) {
        where.add("account_id = ?");
        values.add(accountId);
      }
      if (actor != null) {
        where.add("actor = ?");
        values.add(actor);
      }
      String sql = "SELECT id, at, actor, action, account_id, token_public_id, detail, remote_address"
          + " FROM audit_events" + (where.isEmpty() ? "" : " WHERE " + String.join(" AND ", where))
          + " ORDER BY id DESC";
      try (PreparedStatement ps = c.prepareStatement(sql)) {
        ps.setMaxRows(limit);
        for (int i = 0; i < values.size(); i++) {
          ps.setString(i + 1, values.get(i));
        }
        try (ResultSet rs = ps.executeQuery()) {
          List<AuditEvent> out = new ArrayList<>();
          while (rs.next()) {
            out.add(new AuditEvent(rs.getLong(1), Instant.ofEpochMilli(rs.getLong(2)),
                rs.getString(3), rs.getString(4), rs.getString(5), rs.getString(6), rs.getString(7),
                rs.getString(8)));
          }
          return out;
        }
      }
    });
  }

  /** Writes one event inside the caller's transaction. */
  /**
   * Every change an admin makes writes its audit record in the change's own transaction: here the
   * admin's row is locked and must still be active, so a call in flight when its admin was revoked
   * commits nothing (a revocation committed first is seen; one that waits on the lock comes after).
   */
  private static void requireActive(Connection c, Actor actor) throws SQLException {
    if (actor.adminId() == null) {
      return;
    }
    try (PreparedStatement ps = c.prepareStatement(
        "SELECT revoked_at FROM admins WHERE public_id = ? FOR UPDATE")) {
      ps.setString(1, actor.adminId());
      try (java.sql.ResultSet rs = ps.executeQuery()) {
        if (!rs.next()) {
          throw new AdminRevokedException(actor.name());
        }
        rs.getLong(1);
        if (!rs.wasNull()) {
          throw new AdminRevokedException(actor.name());
        }
      }
    }
  }

  static void insert(Connection c, Instant at, Actor actor, String action, String accountId,
      String tokenPublicId, String detail) throws SQLException {
    requireActive(c, actor);
    try (PreparedStatement ps = c.prepareStatement("INSERT INTO audit_events (at, actor, action,"
        + " account_id, token_public_id, detail, remote_address) VALUES (?, ?, ?, ?, ?, ?, ?)")) {
      ps.setLong(1, at.toEpochMilli());
      ps.setString(2, actor.name());
      ps.setString(3, action);
      ps.setString(4, accountId);
      ps.setString(5, tokenPublicId);
      ps.setString(6, detail.length() > MAX_DETAIL ? detail.substring(0, MAX_DETAIL) : detail);
      ps.setString(7, actor.address());
      ps.executeUpdate();
    }
  }
}
