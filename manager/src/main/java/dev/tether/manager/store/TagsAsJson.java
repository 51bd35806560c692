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

/**
 * Schema version 6.1: delegate tags, stored as comma-separated text before, become a JSON array,
 * so that no character a tag may hold can change how it is read back.
 */
final class TagsAsJson implements JavaMigration {

  @Override
  public MigrationVersion getVersion() {
    return MigrationVersion.fromVersion("6.1");
  }

  @Override
  public String getDescription() {
    return "delegate tags as a JSON array";
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
    List<String[]> rows = new ArrayList<>();
    try (PreparedStatement ps = c.prepareStatement("SELECT id, tags FROM delegates");
        ResultSet rs = ps.executeQuery()) {
      while (rs.next()) {
        String tags = rs.getString(2);
        if (tags != null && !tags.startsWith("[")) {
          rows.add(new String[] {rs.getString(1), JdbcDelegateStore.tagsJson(JdbcDelegateStore.tags(tags))});
        }
      }
    }
    try (PreparedStatement ps = c.prepareStatement("UPDATE delegates SET tags = ? WHERE id = ?")) {
      for (String[] row : rows) {
        ps.setString(1, row[1]);
        ps.setString(2, row[0]);
        ps.addBatch();
      }
      ps.executeBatch();
    }
  }
}
