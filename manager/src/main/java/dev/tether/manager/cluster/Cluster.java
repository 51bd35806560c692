package dev.tether.manager.cluster;

import dev.tether.manager.auth.SessionRegistry;
import dev.tether.manager.revocation.RevocationRegistry;
import dev.tether.manager.store.JdbcStore;
import dev.tether.manager.store.Replica;
import dev.tether.manager.store.StoreException;
import dev.tether.manager.store.TetherStore;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * This manager as one replica among several on a shared database. It registers itself and keeps
 * its liveness fresh, marks the delegates of lost replicas disconnected, applies revocations
 * announced by other replicas (PostgreSQL LISTEN/NOTIFY, pushed at commit), and reconciles its
 * live streams against the tokens table on a fixed interval, so that a missed notification can
 * never keep a revoked token's stream alive longer than that interval.
 */
public final class Cluster implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(Cluster.class);

  private final TetherStore store;
  private final String replicaId;
  private final RevocationRegistry registry;
  private final SessionRegistry sessions;
  private final Clock clock;
  private final ClusterSettings settings;
  private final ScheduledExecutorService scheduler;
  private final Instant startedAt;
  private volatile String address = "unknown";
  private volatile boolean running = true;
  private Thread listener;

  public Cluster(TetherStore store, String replicaId, RevocationRegistry registry, SessionRegistry sessions,
      Clock clock, ClusterSettings settings, ScheduledExecutorService scheduler) {
    this.store = store;
    this.replicaId = replicaId;
    this.registry = registry;
    this.sessions = sessions;
    this.clock = clock;
    this.settings = settings;
    this.scheduler = scheduler;
    this.startedAt = clock.instant();
  }

  public String replicaId() {
    return replicaId;
  }

  public void address(String value) {
    address = value;
  }

  public void start() {
    seen();
    long beat = settings.replicaHeartbeat().toMillis();
    scheduler.scheduleWithFixedDelay(guarded(this::seen), beat, beat, TimeUnit.MILLISECONDS);
    scheduler.scheduleWithFixedDelay(guarded(this::sweepLostReplicas), beat, beat, TimeUnit.MILLISECONDS);
    long reconcile = settings.reconcileInterval().toMillis();
    scheduler.scheduleWithFixedDelay(guarded(this::reconcile), reconcile, reconcile, TimeUnit.MILLISECONDS);
    if (store.shared() && store instanceof JdbcStore jdbc) {
      listener = new Thread(() -> listen(jdbc), "tether-revocation-listener");
      listener.setDaemon(true);
      listener.start();
    }
  }

  /** Cuts this replica's streams of a revoked token and records how many, for the revoker to see. */
  public int apply(long tokenId) {
    // one pass at a time per token (notification, reconciliation, a local revoke), so that the
    // first pass cuts every stream and its confirmation carries the full count
    synchronized (registry.fence(tokenId)) {
      registry.raiseFence(tokenId);
      sessions.removeToken(tokenId);
      int closed = registry.closeAll(tokenId);
      try {
        store.recordRevocationAck(tokenId, replicaId, closed, clock.instant());
      } catch (StoreException e) {
        log.warn("could not confirm revocation of token {} ({} streams closed): {}", tokenId, closed, e.getMessage());
      }
      return closed;
    }
  }

  /**
   * After a local revoke: records this replica's part and waits, up to the confirm timeout, for
   * every other live replica to confirm; returns streams closed per replica, -1 where unconfirmed.
   */
  public Map<String, Integer> confirm(long tokenId, int closedHere) {
    if (!store.shared()) {
      // a single manager: nobody else to wait for, and nothing to write
      return Map.of(replicaId, closedHere);
    }
    store.recordRevocationAck(tokenId, replicaId, closedHere, clock.instant());
    List<String> live = liveReplicas();
    long deadline = System.nanoTime() + settings.confirmTimeout().toNanos();
    Map<String, Integer> acks = store.revocationAcks(tokenId);
    while (!acks.keySet().containsAll(live) && System.nanoTime() < deadline) {
      LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(5));
      acks = store.revocationAcks(tokenId);
    }
    Map<String, Integer> out = new LinkedHashMap<>();
    for (String id : live) {
      out.put(id, acks.getOrDefault(id, -1));
    }
    acks.forEach(out::putIfAbsent);
    return out;
  }

  /** Replicas seen within the lost-after window. */
  public List<String> liveReplicas() {
    Instant cutoff = clock.instant().minus(settings.lostAfter());
    List<String> out = new ArrayList<>();
    for (Replica r : store.listReplicas()) {
      if (r.lastSeen().isAfter(cutoff) || r.id().equals(replicaId)) {
        out.add(r.id());
      }
    }
    return out;
  }

  /** The safety net: streams whose token is revoked in the database are cut, whatever was missed. */
  public int reconcile() {
    List<Long> live = registry.liveTokenIds();
    int closed = 0;
    for (long tokenId : store.revokedAmong(live)) {
      int n = apply(tokenId);
      if (n > 0) {
        log.warn("reconciliation cut {} streams of revoked token {} (its notification was missed)", n, tokenId);
      }
      closed += n;
    }
    return closed;
  }

  private void seen() {
    store.replicaSeen(new Replica(replicaId, address, startedAt, clock.instant()));
  }

  private void sweepLostReplicas() {
    int n = store.disconnectDelegatesOfLostReplicas(clock.instant().minus(settings.lostAfter()), clock.instant());
    if (n > 0) {
      log.warn("{} delegates of lost replicas are now shown disconnected", n);
    }
  }

  private void listen(JdbcStore jdbc) {
    var source = jdbc.dataSource();
    while (running) {
      Properties props = new Properties();
      if (source.getUsername() != null) {
        props.setProperty("user", source.getUsername());
      }
      if (source.getPassword() != null) {
        props.setProperty("password", source.getPassword());
      }
      props.setProperty("ApplicationName", "tether-listener-" + replicaId);
      try (Connection c = DriverManager.getConnection(source.getJdbcUrl(), props)) {
        try (Statement s = c.createStatement()) {
          s.execute("LISTEN " + TetherStore.REVOCATION_CHANNEL);
        }
        log.info("replica {} listening for revocations", replicaId);
        // anything announced while this connection was down is caught here
        reconcile();
        PGConnection pg = c.unwrap(PGConnection.class);
        while (running) {
          PGNotification[] notifications = pg.getNotifications(500);
          if (notifications == null) {
            continue;
          }
          for (PGNotification n : notifications) {
            try {
              long t0 = System.nanoTime();
              int closed = apply(Long.parseLong(n.getParameter()));
              log.info("revocation of token {} announced by another replica: {} streams closed here in {} ms",
                  n.getParameter(), closed, String.format("%.1f", (System.nanoTime() - t0) / 1e6));
            } catch (NumberFormatException e) {
              log.warn("ignoring malformed revocation notification");
            }
          }
        }
      } catch (SQLException | StoreException e) {
        if (running) {
          log.warn("revocation listener lost its database connection ({}); reconnecting, reconciliation"
              + " covers the gap", e.getMessage());
          LockSupport.parkNanos(TimeUnit.SECONDS.toNanos(1));
        }
      }
    }
  }

  private static Runnable guarded(Runnable task) {
    return () -> {
      try {
        task.run();
      } catch (RuntimeException e) {
        log.warn("cluster task failed: {}", e.toString());
      }
    };
  }

  @Override
  public void close() {
    running = false;
    if (listener != null) {
      listener.interrupt();
    }
  }
}
