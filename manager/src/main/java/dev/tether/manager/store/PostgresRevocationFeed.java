package dev.tether.manager.store;

import com.zaxxer.hikari.HikariDataSource;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The revocation feed on PostgreSQL: one connection of its own (a pooled one cannot hold a LISTEN)
 * on which the replica LISTENs to the revocation and confirmation channels, reconnecting after a
 * failure. Each (re)connection is reported, so that the replica reconciles what it missed.
 */
final class PostgresRevocationFeed implements RevocationFeed {

  private static final Logger log = LoggerFactory.getLogger(PostgresRevocationFeed.class);

  /** How often the feed checks that its connection still reaches the database. */
  static final Duration CHECK_EVERY = Duration.ofSeconds(10);

  private final HikariDataSource pool;
  private final String replicaId;
  private volatile boolean running = true;
  private Thread thread;

  PostgresRevocationFeed(HikariDataSource pool, String replicaId) {
    this.pool = pool;
    this.replicaId = replicaId;
  }

  @Override
  public synchronized void start(Listener listener) {
    thread = new Thread(() -> listen(listener), "tether-revocation-feed");
    thread.setDaemon(true);
    thread.start();
  }

  private void listen(Listener listener) {
    while (running) {
      // as the pool's: the check below that gets no answer fails
      Properties props = JdbcStore.postgresNetworkProperties();
      if (pool.getUsername() != null) {
        props.setProperty("user", pool.getUsername());
      }
      if (pool.getPassword() != null) {
        props.setProperty("password", pool.getPassword());
      }
      props.setProperty("ApplicationName", "tether-feed-" + replicaId);
      try (Connection c = DriverManager.getConnection(pool.getJdbcUrl(), props)) {
        try (Statement s = c.createStatement()) {
          s.execute("LISTEN " + REVOKED_CHANNEL);
          s.execute("LISTEN " + ACKED_CHANNEL);
          s.execute("LISTEN " + ADMIN_REVOKED_CHANNEL);
        }
        log.info("replica {} listening for revocations", replicaId);
        listener.resumed();
        PGConnection pg = c.unwrap(PGConnection.class);
        long checked = System.nanoTime();
        while (running) {
          PGNotification[] notifications = pg.getNotifications(500);
          if (notifications != null) {
            for (PGNotification n : notifications) {
              deliver(listener, n);
            }
          }
          if (System.nanoTime() - checked >= CHECK_EVERY.toNanos()) {
            // Waiting for notifications sends nothing, so a connection whose server went away
            // without a reset (a failover, a silent network path) would otherwise look idle for ever
            // and deliver nothing: a round trip now and then finds out, and the feed reconnects.
            try (Statement s = c.createStatement()) {
              s.execute("SELECT 1");
            }
            checked = System.nanoTime();
          }
        }
      } catch (SQLException | RuntimeException e) {
        if (running) {
          log.warn("revocation feed lost its database connection ({}); reconnecting, reconciliation covers the gap",
              e.getMessage());
          LockSupport.parkNanos(TimeUnit.SECONDS.toNanos(1));
        }
      }
    }
  }

  private static void deliver(Listener listener, PGNotification n) {
    try {
      if (REVOKED_CHANNEL.equals(n.getName())) {
        listener.revoked(Long.parseLong(n.getParameter()));
      } else if (ACKED_CHANNEL.equals(n.getName())) {
        String[] parts = n.getParameter().split(":", 3);
        listener.acked(Long.parseLong(parts[0]), parts[1], Integer.parseInt(parts[2]));
      } else if (ADMIN_REVOKED_CHANNEL.equals(n.getName())) {
        listener.adminRevoked(n.getParameter());
      }
    } catch (NumberFormatException | ArrayIndexOutOfBoundsException e) {
      log.warn("ignoring a malformed notification on {}", n.getName());
    }
  }

  @Override
  public void close() {
    running = false;
    Thread t;
    synchronized (this) {
      t = thread;
    }
    if (t != null) {
      t.interrupt();
      try {
        // the listener wakes within its 500 ms poll; it must be gone before the store closes
        t.join(TimeUnit.SECONDS.toMillis(5));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }
}
