package dev.tether.manager.store;

import com.zaxxer.hikari.HikariDataSource;
import dev.tether.manager.metrics.ManagerMetrics;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.time.Instant;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ForkJoinWorkerThread;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

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

  private static final Logger log = LoggerFactory.getLogger(Database.class);

  private final HikariDataSource dataSource;
  private final Dialect dialect;
  /** Where commit times and failures go; none until the manager says. */
  private volatile ManagerMetrics metrics;
  /**
   * Why forcing a commit to the disk failed, once it has: from then on nothing is read or written.
   * What the file holds is uncertain after a failed fsync (Linux may drop the pages it could not
   * write, and later commits build on them), so, as PostgreSQL does, the database is given up until
   * a restart reopens it from what is on the disk.
   */
  private volatile String forceFailure;

  Database(HikariDataSource dataSource, Dialect dialect) {
    this.dataSource = dataSource;
    this.dialect = dialect;
  }

  void measure(ManagerMetrics value) {
    metrics = value;
  }

  /** Where this database's meters go; null until the manager says. */
  ManagerMetrics metrics() {
    return metrics;
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
    usable(what);
    return waitedOn(() -> {
      try (Connection c = dataSource.getConnection()) {
        return work.run(c);
      } catch (SQLException e) {
        throw failure(what, e);
      }
    });
  }

  <T> T inTransaction(String what, SqlWork<T> work) {
    usable(what);
    return waitedOn(() -> transaction(what, work));
  }

  /**
   * Makes every commit so far durable: for an answer read from the database that a change is done
   * ("already revoked"), since another connection sees a commit before its transaction has forced
   * it to the disk.
   */
  void forceToDisk(String what) {
    query(what, c -> {
      force(c);
      return null;
    });
  }

  private void usable(String what) {
    String failure = forceFailure;
    if (failure != null) {
      throw new StoreException("database refused for " + what + ": forcing a commit to the disk failed earlier ("
          + failure + "); restart the manager, which reopens the database from what the disk holds", null);
    }
  }

  private void force(Connection c) throws SQLException {
    try {
      dialect.forceToDisk(c);
    } catch (SQLException e) {
      if (forceFailure == null) {
        forceFailure = e.getMessage();
        log.error("forcing a commit to the disk failed: the database is refused from now on, until the manager"
            + " restarts: {}", e.getMessage());
      }
      throw e;
    }
  }

  /**
   * Runs {@code work} as a managed block: on a thread of a work-stealing pool (the manager's
   * delegate-stream pool, one thread per core) the pool runs a spare thread for as long as the
   * database keeps this one waiting, so that other streams' heartbeats go on. Nothing the streams
   * do there waits for the database any more (see {@code StreamCalls}); this is the safety net.
   * On any other thread it simply runs {@code work}.
   */
  private static <T> T waitedOn(Supplier<T> work) {
    if (!(Thread.currentThread() instanceof ForkJoinWorkerThread)) {
      return work.get();
    }
    final class Blocker implements ForkJoinPool.ManagedBlocker {
      private T result;
      private RuntimeException failure;
      private boolean done;

      @Override
      public boolean block() {
        try {
          result = work.get();
        } catch (RuntimeException e) {
          failure = e;
        }
        done = true;
        return true;
      }

      @Override
      public boolean isReleasable() {
        return done;
      }
    }
    Blocker blocker = new Blocker();
    try {
      ForkJoinPool.managedBlock(blocker);
    } catch (InterruptedException e) {
      // block() itself is never interrupted out of; managedBlock declares it for other blockers
      Thread.currentThread().interrupt();
      throw new StoreException("interrupted while waiting for the database", e);
    }
    if (blocker.failure != null) {
      throw blocker.failure;
    }
    return blocker.result;
  }

  private <T> T transaction(String what, SqlWork<T> work) {
    try (Connection c = dataSource.getConnection()) {
      c.setAutoCommit(false);
      try {
        long started = System.nanoTime();
        T result = work.run(c);
        c.commit();
        // durable against a power cut before anyone is answered: a revoke, a registration, a token
        force(c);
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
