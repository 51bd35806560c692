package dev.tether.manager.store;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** Named admins over JDBC. A revocation is announced to the other replicas at commit. */
final class JdbcAdminStore implements AdminStore {

  private static final String COLUMNS = "id, name, public_id, role, created_at, created_by, revoked_at, revoked_by";

  private final Database db;

  JdbcAdminStore(Database db) {
    this.db = db;
  }

  @Override
  public AdminRecord createAdmin(String name, String publicId, AdminRole role, String secretDigest, Instant at,
      Actor by) {
    return db.inTransaction("create admin", c -> {
      long id = insert(c, name, publicId, role, secretDigest, at, by.name());
      JdbcAuditStore.insert(c, at, by, "admin.create", null, null, "name=" + name + " role=" + role.label()
          + " admin_id=" + publicId);
      return new AdminRecord(id, name, publicId, role, at, by.name(), null, null);
    });
  }

  @Override
  public Optional<AdminRecord> ensureBootstrapOwner(String name, String publicId, String secretDigest, Instant at) {
    return db.inTransaction("set up the bootstrap admin", c -> {
      Optional<AdminRecord> existing = one(c, "name = ?", name);
      if (existing.isEmpty() && anyAdmin(c)) {
        // deleted by an owner: admin.key must not bring it back at a restart
        return Optional.<AdminRecord>empty();
      }
      if (existing.isEmpty()) {
        long id = insert(c, name, publicId, AdminRole.OWNER, secretDigest, at, Actor.SYSTEM.name());
        JdbcAuditStore.insert(c, at, Actor.SYSTEM, "admin.create", null, null, "name=" + name
            + " role=owner admin_id=" + publicId + " (the admin.key of the data directory)");
        return Optional.of(new AdminRecord(id, name, publicId, AdminRole.OWNER, at, Actor.SYSTEM.name(), null, null));
      }
      AdminRecord admin = existing.get();
      if (admin.active()) {
        try (PreparedStatement ps = c.prepareStatement(
            "UPDATE admins SET secret_digest = ?, public_id = ? WHERE id = ? AND secret_digest <> ?")) {
          ps.setString(1, secretDigest);
          ps.setString(2, publicId);
          ps.setLong(3, admin.id());
          ps.setString(4, secretDigest);
          if (ps.executeUpdate() > 0) {
            JdbcAuditStore.insert(c, at, Actor.SYSTEM, "admin.rekey", null, null, "name=" + name
                + " admin_id=" + publicId + " was " + admin.publicId() + " (admin.key of the data directory replaced)");
          }
        }
      }
      return one(c, "id = ?", admin.id());
    });
  }

  private static boolean anyAdmin(Connection c) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement("SELECT 1 FROM admins FETCH FIRST 1 ROWS ONLY");
        ResultSet rs = ps.executeQuery()) {
      return rs.next();
    }
  }

  @Override
  public Optional<AdminRecord> findAdminByDigest(String secretDigest) {
    return db.query("find admin", c -> one(c, "secret_digest = ?", secretDigest));
  }

  @Override
  public Optional<AdminRecord> findAdmin(String name) {
    return db.query("find admin", c -> one(c, "name = ?", name));
  }

  @Override
  public List<AdminRecord> listAdmins() {
    return db.query("list admins", c -> {
      try (PreparedStatement ps = c.prepareStatement("SELECT " + COLUMNS + " FROM admins ORDER BY name");
          ResultSet rs = ps.executeQuery()) {
        List<AdminRecord> out = new ArrayList<>();
        while (rs.next()) {
          out.add(admin(rs));
        }
        return out;
      }
    });
  }

  @Override
  public Optional<AdminRecord> revokeAdmin(String name, Instant at, Actor by) {
    return db.inTransaction("revoke admin", c -> {
      Optional<AdminRecord> target = one(c, "name = ? AND revoked_at IS NULL", name);
      if (target.isEmpty()) {
        return Optional.<AdminRecord>empty();
      }
      if (target.get().role() == AdminRole.OWNER) {
        // lock every active owner: of two concurrent revokes, the second sees what the first left
        int owners = 0;
        try (PreparedStatement ps = c.prepareStatement(
            "SELECT id FROM admins WHERE role = 'OWNER' AND revoked_at IS NULL FOR UPDATE");
            ResultSet rs = ps.executeQuery()) {
          while (rs.next()) {
            owners++;
          }
        }
        if (owners <= 1) {
          throw new LastOwnerException(name);
        }
      }
      // the audit record first: it checks that the revoking admin is active, which it no longer is
      // once it has revoked itself
      JdbcAuditStore.insert(c, at, by, "admin.revoke", null, null, "name=" + name + " role="
          + target.get().role().label() + " admin_id=" + target.get().publicId());
      try (PreparedStatement ps = c.prepareStatement(
          "UPDATE admins SET revoked_at = ?, revoked_by = ? WHERE id = ? AND revoked_at IS NULL")) {
        ps.setLong(1, at.toEpochMilli());
        ps.setString(2, by.name());
        ps.setLong(3, target.get().id());
        if (ps.executeUpdate() == 0) {
          return Optional.<AdminRecord>empty();
        }
      }
      AdminRecord revoked = one(c, "id = ?", target.get().id()).orElseThrow();
      db.dialect().notify(c, RevocationFeed.ADMIN_REVOKED_CHANNEL, revoked.publicId());
      return Optional.of(revoked);
    });
  }

  @Override
  public boolean deleteAdmin(String name, Instant at, Actor by) {
    return db.inTransaction("delete admin", c -> {
      Optional<AdminRecord> target = one(c, "name = ? AND revoked_at IS NOT NULL", name);
      if (target.isEmpty()) {
        return false;
      }
      try (PreparedStatement ps = c.prepareStatement("DELETE FROM admins WHERE id = ? AND revoked_at IS NOT NULL")) {
        ps.setLong(1, target.get().id());
        if (ps.executeUpdate() == 0) {
          return false;
        }
      }
      JdbcAuditStore.insert(c, at, by, "admin.delete", null, null, "name=" + name + " admin_id="
          + target.get().publicId());
      return true;
    });
  }

  private static long insert(Connection c, String name, String publicId, AdminRole role, String secretDigest,
      Instant at, String by) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement("INSERT INTO admins (name, public_id, role, secret_digest,"
        + " created_at, created_by) VALUES (?, ?, ?, ?, ?, ?)", Statement.RETURN_GENERATED_KEYS)) {
      ps.setString(1, name);
      ps.setString(2, publicId);
      ps.setString(3, role.name());
      ps.setString(4, secretDigest);
      ps.setLong(5, at.toEpochMilli());
      ps.setString(6, by);
      ps.executeUpdate();
      try (ResultSet keys = ps.getGeneratedKeys()) {
        keys.next();
        return keys.getLong(1);
      }
    }
  }

  private static Optional<AdminRecord> one(Connection c, String where, Object param) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement("SELECT " + COLUMNS + " FROM admins WHERE " + where)) {
      ps.setObject(1, param);
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next() ? Optional.of(admin(rs)) : Optional.empty();
      }
    }
  }

  private static AdminRecord admin(ResultSet rs) throws SQLException {
    return new AdminRecord(rs.getLong("id"), rs.getString("name"), rs.getString("public_id"),
        AdminRole.valueOf(rs.getString("role")), Database.instant(rs, "created_at"), rs.getString("created_by"),
        Database.instant(rs, "revoked_at"), rs.getString("revoked_by"));
  }
}
