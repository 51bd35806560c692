package dev.tether.bench;

import dev.tether.manager.store.JdbcStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Arrays;

/**
 * The floor of a durable commit on the manager's embedded database: the smallest transaction H2
 * makes durable, on the manager's own settings ({@link JdbcStore#h2Url}) in a database file of
 * its own. Each sample updates one row, commits (H2 writes its chunk into the file) and runs
 * {@code CHECKPOINT SYNC} (H2 forces the file to the disk), as every transaction of the manager's
 * store ends. A revoke's own transaction does this and more (its update, the token read back, the
 * revoking admin's row checked, its audit row), so this is below what a revoke's commit can take on the same machine at the same
 * moment; beside the bare {@code fsync} of {@link MachineFloor}, it says what H2 itself adds.
 */
final class H2CommitProbe {

  private H2CommitProbe() {}

  /**
   * Takes {@code warmup} unmeasured and then {@code samples} measured durable commits in a new H2
   * database in {@code dir} (which must not hold one), and returns the measured ones, sorted, in
   * milliseconds. The database is left in {@code dir}, closed; its one row holds the number of
   * commits made.
   */
  static double[] millis(Path dir, int warmup, int samples) throws SQLException, java.io.IOException {
    Files.createDirectories(dir);
    double[] millis = new double[samples];
    try (Connection c = DriverManager.getConnection(JdbcStore.h2Url(dir), "probe", "")) {
      try (Statement s = c.createStatement()) {
        s.execute("CREATE TABLE probe (id BIGINT PRIMARY KEY, commits BIGINT NOT NULL)");
        s.execute("INSERT INTO probe VALUES (1, 0)");
      }
      c.setAutoCommit(false);
      try (PreparedStatement update = c.prepareStatement("UPDATE probe SET commits = ? WHERE id = 1");
          Statement sync = c.createStatement()) {
        for (int i = 0; i < warmup + samples; i++) {
          long start = System.nanoTime();
          update.setLong(1, i + 1L);
          update.executeUpdate();
          c.commit();
          sync.execute("CHECKPOINT SYNC");
          if (i >= warmup) {
            millis[i - warmup] = (System.nanoTime() - start) / 1e6;
          }
        }
      }
    }
    Arrays.sort(millis);
    return millis;
  }
}
