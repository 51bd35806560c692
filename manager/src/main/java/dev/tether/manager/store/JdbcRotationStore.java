package dev.tether.manager.store;

import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** {@link RotationStore} over JDBC (H2 and PostgreSQL alike). */
final class JdbcRotationStore implements RotationStore {

  private static final String COLUMNS = "id, account_id, old_token_row, old_token_id, old_token_name,"
      + " successor_token_row, successor_token_id, successor_token_name, sealed_successor, push, grace_ms, state,"
      + " opened_at, opened_by, ended_at, ended_by";

  private final Database db;

  JdbcRotationStore(Database db) {
    this.db = db;
  }

  @Override
  public void openRotation(Rotation r, Actor by, String auditDetail) {
    db.inTransaction("open rotation", c -> {
      try (PreparedStatement ps = c.prepareStatement("INSERT INTO token_rotations (" + COLUMNS
          + ", open_token_row) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")) {
        ps.setString(1, r.id());
        ps.setString(2, r.accountId());
        ps.setLong(3, r.oldTokenRow());
        ps.setString(4, r.oldTokenId());
        ps.setString(5, r.oldTokenName());
        ps.setLong(6, r.successorTokenRow());
        ps.setString(7, r.successorTokenId());
        ps.setString(8, r.successorTokenName());
        ps.setString(9, r.sealedSuccessor());
        ps.setBoolean(10, r.push());
        ps.setLong(11, r.grace().toMillis());
        ps.setString(12, Rotation.State.OPEN.name());
        ps.setLong(13, r.openedAt().toEpochMilli());
        ps.setString(14, r.openedBy());
        Database.setInstant(ps, 15, null);
        ps.setString(16, null);
        ps.setLong(17, r.oldTokenRow());
        ps.executeUpdate();
      }
      JdbcAuditStore.insert(c, r.openedAt(), by, "token.rotate", r.accountId(), r.oldTokenId(), auditDetail);
      return null;
    });
  }

  @Override
  public Optional<Rotation> findRotation(String rotationId) {
    return one("find rotation", "SELECT " + COLUMNS + " FROM token_rotations WHERE id = ?", rotationId);
  }

  @Override
  public Optional<Rotation> latestRotationOf(long oldTokenRow) {
    return db.query("find rotation of token", c -> {
      try (PreparedStatement ps = c.prepareStatement("SELECT " + COLUMNS + " FROM token_rotations"
          + " WHERE old_token_row = ? ORDER BY opened_at DESC, id DESC")) {
        ps.setMaxRows(1);
        ps.setLong(1, oldTokenRow);
        return first(ps);
      }
    });
  }

  @Override
  public List<Rotation> openRotations() {
    return db.query("list open rotations", c -> {
      try (PreparedStatement ps = c.prepareStatement("SELECT " + COLUMNS + " FROM token_rotations WHERE state = ?"
          + " ORDER BY opened_at")) {
        ps.setString(1, Rotation.State.OPEN.name());
        List<Rotation> out = new ArrayList<>();
        try (ResultSet rs = ps.executeQuery()) {
          while (rs.next()) {
            out.add(rotation(rs));
          }
        }
        return out;
      }
    });
  }

  @Override
  public List<Rotation> finishedWithOldTokenActive(Instant endedBy, Instant now) {
    return db.query("list finished rotations with the old token active", c -> {
      // the row must still be the old token (its public id and account), and not past its expiry: an
      // expired token ends as EXPIRED, never as REVOKED
      try (PreparedStatement ps = c.prepareStatement("SELECT r.* FROM token_rotations r"
          + " JOIN tokens t ON t.id = r.old_token_row AND t.public_id = r.old_token_id AND t.account_id = r.account_id"
          + " WHERE r.state = ? AND t.status = ? AND r.ended_at <= ? AND (t.expires_at IS NULL OR t.expires_at > ?)"
          + " ORDER BY r.ended_at")) {
        ps.setString(1, Rotation.State.FINISHED.name());
        ps.setString(2, TokenStatus.ACTIVE.name());
        ps.setLong(3, endedBy.toEpochMilli());
        ps.setLong(4, now.toEpochMilli());
        List<Rotation> out = new ArrayList<>();
        try (ResultSet rs = ps.executeQuery()) {
          while (rs.next()) {
            out.add(rotation(rs));
          }
        }
        return out;
      }
    });
  }

  @Override
  public boolean endRotation(String rotationId, Rotation.State state, Instant at, Actor by, String action,
      String auditDetail) {
    return db.inTransaction("end rotation", c -> {
      Rotation r;
      try (PreparedStatement ps = c.prepareStatement("SELECT " + COLUMNS + " FROM token_rotations WHERE id = ?")) {
        ps.setString(1, rotationId);
        r = first(ps).orElse(null);
      }
      if (r == null) {
        return false;
      }
      try (PreparedStatement ps = c.prepareStatement("UPDATE token_rotations SET state = ?, open_token_row = NULL,"
          // the successor is kept only while it may still be handed out (docs/security.md)
          + " sealed_successor = '', ended_at = ?, ended_by = ? WHERE id = ? AND state = ?")) {
        ps.setString(1, state.name());
        ps.setLong(2, at.toEpochMilli());
        ps.setString(3, by.name());
        ps.setString(4, rotationId);
        ps.setString(5, Rotation.State.OPEN.name());
        if (ps.executeUpdate() == 0) {
          return false;
        }
      }
      JdbcAuditStore.insert(c, at, by, action, r.accountId(), r.oldTokenId(), auditDetail);
      return true;
    });
  }

  @Override
  public void recordRotationDelegate(RotationDelegate d) {
    try {
      upsert(d);
    } catch (DuplicateException raced) {
      // another replica inserted the row between our update and insert: it exists now
      upsert(d);
    }
  }

  private void upsert(RotationDelegate d) {
    db.inTransaction("record rotation outcome", c -> {
      try (PreparedStatement ps = c.prepareStatement("UPDATE rotation_delegates SET outcome = ?, reason = ?, at = ?"
          + " WHERE rotation_id = ? AND delegate_id = ?")) {
        ps.setString(1, d.outcome().name());
        ps.setString(2, d.reason());
        ps.setLong(3, d.at().toEpochMilli());
        ps.setString(4, d.rotationId());
        ps.setString(5, d.delegateId());
        if (ps.executeUpdate() > 0) {
          return null;
        }
      }
      try (PreparedStatement ps = c.prepareStatement("INSERT INTO rotation_delegates (rotation_id, delegate_id,"
          + " outcome, reason, at) VALUES (?, ?, ?, ?, ?)")) {
        ps.setString(1, d.rotationId());
        ps.setString(2, d.delegateId());
        ps.setString(3, d.outcome().name());
        ps.setString(4, d.reason());
        ps.setLong(5, d.at().toEpochMilli());
        ps.executeUpdate();
      }
      return null;
    });
  }

  @Override
  public List<RotationDelegate> rotationDelegates(String rotationId) {
    return db.query("list rotation outcomes", c -> {
      try (PreparedStatement ps = c.prepareStatement("SELECT rotation_id, delegate_id, outcome, reason, at"
          + " FROM rotation_delegates WHERE rotation_id = ? ORDER BY at, delegate_id")) {
        ps.setString(1, rotationId);
        List<RotationDelegate> out = new ArrayList<>();
        try (ResultSet rs = ps.executeQuery()) {
          while (rs.next()) {
            out.add(new RotationDelegate(rs.getString("rotation_id"), rs.getString("delegate_id"),
                RotationDelegate.Outcome.valueOf(rs.getString("outcome")), rs.getString("reason"),
                Instant.ofEpochMilli(rs.getLong("at"))));
          }
        }
        return out;
      }
    });
  }

  private Optional<Rotation> one(String what, String sql, String key) {
    return db.query(what, c -> {
      try (PreparedStatement ps = c.prepareStatement(sql)) {
        ps.setString(1, key);
        return first(ps);
      }
    });
  }

  private static Optional<Rotation> first(PreparedStatement ps) throws SQLException {
    try (ResultSet rs = ps.executeQuery()) {
      return rs.next() ? Optional.of(rotation(rs)) : Optional.empty();
    }
  }

  private static Rotation rotation(ResultSet rs) throws SQLException {
    return new Rotation(rs.getString("id"), rs.getString("account_id"), rs.getLong("old_token_row"),
        rs.getString("old_token_id"), rs.getString("old_token_name"), rs.getLong("successor_token_row"),
        rs.getString("successor_token_id"), rs.getString("successor_token_name"), rs.getString("sealed_successor"),
        rs.getBoolean("push"), Duration.ofMillis(rs.getLong("grace_ms")),
        Rotation.State.valueOf(rs.getString("state")), Instant.ofEpochMilli(rs.getLong("opened_at")),
        rs.getString("opened_by"), Database.instant(rs, "ended_at"), rs.getString("ended_by"));
  }

  @Override
  public void scheduleRotation(RotationSchedule schedule) {
    db.inTransaction("schedule rotation", c -> {
      try (PreparedStatement ps = c.prepareStatement("DELETE FROM rotation_schedules WHERE token_row = ?")) {
        ps.setLong(1, schedule.tokenRow());
        ps.executeUpdate();
      }
      try (PreparedStatement ps = c.prepareStatement("INSERT INTO rotation_schedules (token_row, account_id,"
          + " token_name, every_ms, next_at) VALUES (?, ?, ?, ?, ?)")) {
        ps.setLong(1, schedule.tokenRow());
        ps.setString(2, schedule.accountId());
        ps.setString(3, schedule.tokenName());
        ps.setLong(4, schedule.every().toMillis());
        ps.setLong(5, schedule.nextAt().toEpochMilli());
        ps.executeUpdate();
      }
      return null;
    });
  }

  @Override
  public Optional<RotationSchedule> rotationSchedule(long tokenRow) {
    return db.query("find rotation schedule", c -> {
      try (PreparedStatement ps = c.prepareStatement("SELECT token_row, account_id, token_name, every_ms, next_at"
          + " FROM rotation_schedules WHERE token_row = ?")) {
        ps.setLong(1, tokenRow);
        List<RotationSchedule> found = schedules(ps);
        return found.isEmpty() ? Optional.empty() : Optional.of(found.get(0));
      }
    });
  }

  @Override
  public List<RotationSchedule> dueRotations(Instant now) {
    return db.query("list due rotations", c -> {
      try (PreparedStatement ps = c.prepareStatement("SELECT token_row, account_id, token_name, every_ms, next_at"
          + " FROM rotation_schedules WHERE next_at <= ? ORDER BY next_at")) {
        ps.setLong(1, now.toEpochMilli());
        return schedules(ps);
      }
    });
  }

  @Override
  public boolean claimScheduledRotation(long tokenRow, Instant expected, Instant nextAt) {
    return db.inTransaction("claim scheduled rotation", c -> {
      try (PreparedStatement ps = c.prepareStatement("UPDATE rotation_schedules SET next_at = ?"
          + " WHERE token_row = ? AND next_at = ?")) {
        ps.setLong(1, nextAt.toEpochMilli());
        ps.setLong(2, tokenRow);
        ps.setLong(3, expected.toEpochMilli());
        return ps.executeUpdate() == 1;
      }
    });
  }

  @Override
  public void unscheduleRotation(long tokenRow) {
    db.inTransaction("unschedule rotation", c -> {
      try (PreparedStatement ps = c.prepareStatement("DELETE FROM rotation_schedules WHERE token_row = ?")) {
        ps.setLong(1, tokenRow);
        ps.executeUpdate();
      }
      return null;
    });
  }

  private static List<RotationSchedule> schedules(PreparedStatement ps) throws SQLException {
    List<RotationSchedule> out = new ArrayList<>();
    try (ResultSet rs = ps.executeQuery()) {
      while (rs.next()) {
        out.add(new RotationSchedule(rs.getLong("token_row"), rs.getString("account_id"), rs.getString("token_name"),
            Duration.ofMillis(rs.getLong("every_ms")), Instant.ofEpochMilli(rs.getLong("next_at"))));
      }
    }
    return out;
  }
}
