package dev.tether.manager.store;

import com.zaxxer.hikari.HikariDataSource;
import dev.tether.manager.metrics.ManagerMetrics;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.time.Instant;

/**
 * The one place that runs SQL: a pooled data source, a query or a transaction at a time, SQL
 * errors turned into {@link StoreException} (a unique violation into {@link DuplicateException}),
 * and the column conversions every store shares. The per-aggregate stores use it; nothing else
 * sees a connection.
 */
final class Database implements AutoCloseable {

  private static final String UNIQUE_VIOLATION = "23505";

  /** Work on one connection. */
  @FunctionalInterface
  interface SqlWork<T> {
    T run(Connection c) throws SQLException;
  }

  private final HikariDataSource dataSource;
  private final Dialect dialect;
  /** Where commit times and failures go; none until the manager says. */
  private volatile ManagerMetrics metrics;

  Database(HikariDataSource dataSource, Dialect dialect) {
    this.dataSource = dataSource;
    this.dialect = dialect;
  }

  void measure(ManagerMetrics value) {
    metrics = value;
  }

  /** One round trip to the database, bounded by the pool's connection timeout and a 2 s query timeout. */
  void ping() {
    query("ping", c -> {
      try (java.sql.Statement s = c.createStatement()) {
        s.setQueryTimeout(2);
        s.execute("SELECT 1");
      }
      return null;
    });
  }

  Dialect dialect() {
    return dialect;
  }

  HikariDataSource dataSource() {
    return dataSource;
  }

  <T> T query(String what, SqlWork<T> work) {
    try (Connection c = dataSource.getConnection()) {
      return work.run(c);
    } catch (SQLException e) {
      throw failure(what, e);
    }
  }

  <T> T inTransaction(String what, SqlWork<T> work) {
    try (Connection c = dataSource.getConnection()) {
      c.setAutoCommit(false);
      try {
        long started = System.nanoTime();
        T result = work.run(c);
        c.commit();
        ManagerMetrics m = metrics;
        if (m != null) {
          m.storeCommit(System.nanoTime() - started);
        }
        return result;
      } catch (SQLException | RuntimeException e) {
        c.rollback();
        throw e;
      } finally {
        c.setAutoCommit(true);
      }
    } catch (SQLException e) {
      throw failure(what, e);
    }
  }

  private StoreException failure(String what, SQLException e) {
    if (UNIQUE_VIOLATION.equals(e.getSQLState())) {
      return new DuplicateException("duplicate during " + what, e);
    }
    ManagerMetrics m = metrics;
    if (m != null) {
      m.storeError();
    }
    return new StoreException("database error during " + what + ": " + e.getMessage(), e);
  }

  static void setInstant(PreparedStatement ps, int index, Instant value) throws SQLException {
    if (value == null) {
      ps.setNull(index, Types.BIGINT);
    } else {
      ps.setLong(index, value.toEpochMilli());
    }
  }

  static Instant instant(ResultSet rs, String column) throws SQLException {
    long value = rs.getLong(column);
    return rs.wasNull() ? null : Instant.ofEpochMilli(value);
  }

  @Override
  public void close() {
    dataSource.close();
  }
}
