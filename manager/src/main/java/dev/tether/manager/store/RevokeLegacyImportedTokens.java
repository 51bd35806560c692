package dev.tether.manager.store;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import org.flywaydb.core.api.MigrationVersion;
import org.flywaydb.core.api.migration.Context;
import org.flywaydb.core.api.migration.JavaMigration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Schema version 4.1: revokes every active token that was imported before version 4, with an
 * audit event and a WARN naming it. Those tokens were accepted by a check that measured character
 * counts, not guessability, and their public ids were fast hashes of their values, shown in lists
 * and logs: each was an offline guessing oracle. A custom one can no longer authenticate anyway (a
 * delegate now derives its id through Argon2id). The store cannot tell an imported {@code tdt_}
 * value from a custom one (it holds neither), so every imported token is revoked.
 */
final class RevokeLegacyImportedTokens implements JavaMigration {

  static final String ACTOR = "tether-upgrade";
  static final String REASON = "imported before schema version 4.1, whose public id was a fast hash of its value:"
      + " import the value again ('token delete', then 'token create --import-stdin'), or use 'token create'";

  private static final Logger log = LoggerFactory.getLogger(RevokeLegacyImportedTokens.class);

  /** An imported token found in the audit trail. */
  private record Imported(long id, String accountId, String name, String publicId) {}

  @Override
  public MigrationVersion getVersion() {
    return MigrationVersion.fromVersion("4.1");
  }

  @Override
  public String getDescription() {
    return "revoke legacy imported tokens";
  }

  @Override
  public Integer getChecksum() {
    return null;
  }

  @Override
  public boolean canExecuteInTransaction() {
    return true;
  }

  @Override
  public void migrate(Context context) throws SQLException {
    Connection c = context.getConnection();
    long now = System.currentTimeMillis();
    for (Imported token : importedActiveTokens(c)) {
      try (PreparedStatement ps = c.prepareStatement("UPDATE tokens SET status = 'REVOKED', revoked_at = ?,"
          + " revoked_by = ?, revoke_reason = ? WHERE id = ? AND status = 'ACTIVE'")) {
        ps.setLong(1, now);
        ps.setString(2, ACTOR);
        ps.setString(3, REASON.substring(0, Math.min(REASON.length(), 256)));
        ps.setLong(4, token.id());
        ps.executeUpdate();
      }
      try (PreparedStatement ps = c.prepareStatement("INSERT INTO audit_events (at, actor, action,"
          + " account_id, token_public_id, detail) VALUES (?, ?, 'token.revoke', ?, ?, ?)")) {
        ps.setLong(1, now);
        ps.setString(2, ACTOR);
        ps.setString(3, token.accountId());
        ps.setString(4, token.publicId());
        ps.setString(5, "name=" + token.name() + " reason=" + REASON);
        ps.executeUpdate();
      }
      log.warn("token '{}' of account {} ({}) was imported before schema version 4.1 and is now revoked; its"
          + " delegates cannot authenticate until you import the value again ('token delete --account {}"
          + " --name {}', then 'token create --import-stdin') or give them a token from 'token create'",
          token.name(), token.accountId(), token.publicId(), token.accountId(), token.name());
    }
  }

  /**
   * Active tokens whose creation event says {@code imported}: TokenService wrote
   * {@code name=NAME imported} (then optionally {@code expires_at=...}); names hold no spaces.
   */
  private static List<Imported> importedActiveTokens(Connection c) throws SQLException {
    List<Imported> out = new ArrayList<>();
    try (PreparedStatement ps = c.prepareStatement("SELECT t.id, t.account_id, t.name, t.public_id, a.detail"
        + " FROM tokens t JOIN audit_events a ON a.account_id = t.account_id AND a.token_public_id = t.public_id"
        + " WHERE t.status = 'ACTIVE' AND a.action = 'token.create' ORDER BY t.id");
        ResultSet rs = ps.executeQuery()) {
      while (rs.next()) {
        String name = rs.getString(3);
        String detail = rs.getString(5);
        String prefix = "name=" + name + " imported";
        boolean imported = detail.equals(prefix) || detail.startsWith(prefix + " ");
        if (imported && (out.isEmpty() || out.get(out.size() - 1).id() != rs.getLong(1))) {
          out.add(new Imported(rs.getLong(1), rs.getString(2), name, rs.getString(4)));
        }
      }
    }
    return out;
  }
}
