package dev.tether.manager.cluster;

import dev.tether.manager.logging.Millis;
import dev.tether.manager.metrics.ManagerMetrics;
import dev.tether.manager.metrics.ManagerMetrics.RevocationCause;
import dev.tether.manager.revocation.Confirmations;
import dev.tether.manager.revocation.RevocationRegistry;
import dev.tether.manager.revocation.TokenCutter;
import dev.tether.manager.store.DelegateStore;
import dev.tether.manager.store.Replica;
import dev.tether.manager.store.ReplicaStore;
import dev.tether.manager.store.RevocationFeed;
import dev.tether.manager.store.StoreException;
import dev.tether.manager.store.TokenStore;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * This manager as one replica among those sharing its database. It keeps its liveness fresh,
 * shows the delegates of lost replicas disconnected, forgets replicas long gone, cuts the streams
 * of tokens other replicas revoked as soon as the {@link RevocationFeed} announces them, and
 * reconciles its live streams against the tokens table on a fixed interval, so that a missed
 * announcement can never keep a dead token's stream alive longer than that interval.
 *
 * <p>Threads: timers only dispatch; database work runs on {@code storeWork}; the feed delivers on
 * its own thread and does no I/O there. No lock is held across I/O.
 */
public final class Cluster implements Confirmations, RevocationFeed.Listener, AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(Cluster.class);
  /** A replica not seen for this long is forgotten, with its confirmations; see docs/high-availability.md. */
  static final Duration FORGET_AFTER = Duration.ofHours(24);

  private final TokenStore tokens;
  private final DelegateStore delegates;
  private final ReplicaStore replicas;
  private final RevocationFeed feed;
  private volatile java.util.function.Consumer<String> adminRevoked = id -> { };
  private volatile Runnable adminsResumed = () -> { };
  private final boolean shared;
  private final String replicaId;
  private final RevocationRegistry registry;
  private final TokenCutter cutter;
  private final Clock clock;
  private final ClusterSettings settings;
  private final ScheduledExecutorService timers;
  private final ExecutorService storeWork;
  private final Instant startedAt;
  private final Map<Long, Waiter> waiting = new ConcurrentHashMap<>();
  private volatile String address = "unknown";
  private final ManagerMetrics metrics;

  public Cluster(TokenStore tokens, DelegateStore delegates, ReplicaStore replicas, RevocationFeed feed,
      boolean shared, String replicaId, RevocationRegistry registry, TokenCutter cutter, Clock clock,
      ClusterSettings settings, ScheduledExecutorService timers, ExecutorService storeWork) {
    this(tokens, delegates, replicas, feed, shared, replicaId, registry, cutter, clock, settings, timers, storeWork,
        ManagerMetrics.unscraped());
  }

  public Cluster(TokenStore tokens, DelegateStore delegates, ReplicaStore replicas, RevocationFeed feed,
      boolean shared, String replicaId, RevocationRegistry registry, TokenCutter cutter, Clock clock,
      ClusterSettings settings, ScheduledExecutorService timers, ExecutorService storeWork, ManagerMetrics metrics) {
    this.metrics = metrics;
    this.tokens = tokens;
    this.delegates = delegates;
    this.replicas = replicas;
    this.feed = feed;
    this.shared = shared;
    this.replicaId = replicaId;
    this.registry = registry;
    this.cutter = cutter;
    this.clock = clock;
    this.settings = settings;
    this.timers = timers;
    this.storeWork = storeWork;
    this.startedAt = clock.instant();
  }

  public String replicaId() {
    return replicaId;
  }

  public void address(String value) {
    address = value;
  }

  /**
   * Registers this replica, forgets the ones long gone (every earlier run, on a database this
   * manager owns alone, except those a delegate record still reads its end from), and starts the
   * timers and the feed.
   */
  public void start() {
    seen();
    forget();
    long beat = settings.replicaHeartbeat().toMillis();
    timers.scheduleWithFixedDelay(() -> dispatch("replica heartbeat", () -> {
      seen();
      sweepLostReplicas();
      metrics.replicasLive(shared ? liveReplicas().size() : 1);
    }), beat, beat, TimeUnit.MILLISECONDS);
    long reconcile = settings.reconcileInterval().toMillis();
    timers.scheduleWithFixedDelay(() -> dispatch("reconciliation", () -> {
      reconcile();
      // admins revoked on another replica whose announcement was missed
      adminsResumed.run();
    }), reconcile, reconcile, TimeUnit.MILLISECONDS);
    timers.scheduleWithFixedDelay(() -> dispatch("forget old replicas", this::forget), 1, 1, TimeUnit.HOURS);
    feed.start(this);
  }

  /**
   * Cuts this replica's streams of a dead token and, with other replicas around, confirms how many.
   * A token that a revoke on this manager has committed and cuts next is left to that revoke, which
   * counts and confirms what it closes: a reconciliation pass or this replica's own announcement
   * arriving in between would otherwise close the streams first and leave the revoke answering "0
   * streams closed".
   */
  public int apply(long tokenRow) {
    int closed = cutter.cutUnlessRevoking(tokenRow);
    if (closed < 0) {
      return 0;
    }
    if (shared) {
      confirm(tokenRow, closed);
    }
    return closed;
  }

  /** The safety net: streams whose token is revoked, expired or gone in the database are cut. */
  public int reconcile() {
    List<Long> live = registry.liveTokenIds();
    int closed = 0;
    for (long tokenRow : tokens.tokensToCut(live, clock.instant())) {
      int n = apply(tokenRow);
      if (n > 0) {
        metrics.revocation(RevocationCause.RECONCILIATION);
        log.warn("reconciliation cut {} streams of token {}, revoked, expired or deleted (its announcement"
            + " was missed or its expiry timer had not fired)", n, registry.describe(tokenRow));
      }
      closed += n;
    }
    return closed;
  }

  /** Replicas seen within the lost-after window, this one included. */
  public List<String> liveReplicas() {
    Instant cutoff = clock.instant().minus(settings.lostAfter());
    List<String> out = new ArrayList<>();
    for (Replica r : replicas.listReplicas()) {
      if (r.lastSeen().isAfter(cutoff) || r.id().equals(replicaId)) {
        out.add(r.id());
      }
    }
    return out;
  }

  // RevocationFeed.Listener, on the feed's thread

  @Override
  public void revoked(long tokenRow) {
    long t0 = System.nanoTime();
    // this replica's own commits (and expiries it ended first) are announced to it too: not counted
    boolean news = !registry.isFenced(tokenRow);
    Instant heard = clock.instant();
    int closed = apply(tokenRow);
    if (news) {
      metrics.revocation(RevocationCause.REPLICA_NOTIFICATION);
      // the commit's time is in the row: read it off the feed's thread
      dispatch("notification lag", () -> tokens.tokenEndedAt(tokenRow)
          .ifPresent(endedAt -> metrics.notificationLag(Duration.between(endedAt, heard))));
    }
    if (closed > 0) {
      log.info("revocation of token {} announced by another replica: {} streams closed here in {} ms",
          registry.describe(tokenRow), closed, Millis.of(System.nanoTime() - t0));
    }
  }

  @Override
  public void acked(long tokenRow, String replica, int streamsClosed) {
    Waiter w = waiting.get(tokenRow);
    if (w != null) {
      w.add(replica, streamsClosed);
    }
  }

  @Override
  public void resumed() {
    // anything announced while the feed was down is caught here
    dispatch("reconciliation", () -> {
      reconcile();
      adminsResumed.run();
    });
  }

  @Override
  public void adminRevoked(String adminId) {
    adminRevoked.accept(adminId);
  }

  /**
   * What to do when the feed announces an admin's revocation ({@code revoked}, with the admin's
   * public id), and after a gap in the feed ({@code resumed}). Set before {@link #start}.
   */
  public void onAdminRevocations(java.util.function.Consumer<String> revoked, Runnable resumed) {
    this.adminRevoked = revoked;
    this.adminsResumed = resumed;
  }

  // Confirmations

  @Override
  public Pending expect(long tokenRow) {
    if (!shared) {
      return Confirmations.alone(replicaId).expect(tokenRow);
    }
    Waiter w = new Waiter(tokenRow);
    waiting.put(tokenRow, w);
    return w;
  }

  /** Confirmations of one revoke, filled by the feed; waited for without polling the database. */
  private final class Waiter implements Pending {
    private final long tokenRow;
    private final Map<String, Integer> acks = new LinkedHashMap<>();

    Waiter(long tokenRow) {
      this.tokenRow = tokenRow;
    }

    /** A replica's total so far; totals only grow, so the largest heard is the latest. */
    synchronized void add(String replica, int closed) {
      acks.merge(replica, closed, Math::max);
      notifyAll();
    }

    @Override
    public Map<String, Integer> await(int closedHere) {
      try {
        confirm(tokenRow, closedHere);
        List<String> live = liveReplicas();
        // one read, for any confirmation announced before this replica's feed delivered it
        Map<String, Integer> stored = replicas.revocationAcks(tokenRow);
        long deadline = System.nanoTime() + settings.confirmTimeout().toNanos();
        synchronized (this) {
          stored.forEach((replica, n) -> acks.merge(replica, n, Math::max));
          acks.put(replicaId, closedHere);
          while (!acks.keySet().containsAll(live)) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
              break;
            }
            TimeUnit.NANOSECONDS.timedWait(this, left);
          }
          Map<String, Integer> out = new LinkedHashMap<>();
          List<String> silent = new ArrayList<>();
          for (String id : live) {
            Integer n = acks.get(id);
            out.put(id, n == null ? -1 : n);
            if (n == null) {
              silent.add(id);
            }
          }
          acks.forEach(out::putIfAbsent);
          if (!silent.isEmpty()) {
            log.warn("revocation of token {}: replicas {} did not confirm within {} ms; the answer does not count"
                + " their streams, and each cuts them at its next reconciliation (every {} ms)",
                registry.describe(tokenRow), silent, settings.confirmTimeout().toMillis(),
                settings.reconcileInterval().toMillis());
          }
          return out;
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return Map.of(replicaId, closedHere);
      } catch (StoreException e) {
        // committed and cut here; the other replicas are told at commit and reconcile within their interval
        log.warn("could not collect the confirmations of token {}'s revocation: {}", registry.describe(tokenRow),
            e.getMessage());
        return Map.of(replicaId, closedHere);
      } finally {
        waiting.remove(tokenRow, this);
      }
    }

    @Override
    public void cancel() {
      waiting.remove(tokenRow, this);
    }
  }

  private void seen() {
    replicas.replicaSeen(new Replica(replicaId, address, startedAt, clock.instant()));
  }

  private void sweepLostReplicas() {
    int n = delegates.disconnectDelegatesOfLostReplicas(clock.instant().minus(settings.lostAfter()), clock.instant());
    if (n > 0) {
      log.warn("{} delegates of lost replicas are now shown disconnected", n);
    }
  }

  /**
   * A manager alone on its database forgets every earlier run's replica at once (none can come
   * back); replicas sharing a database forget those not seen for {@link #FORGET_AFTER}. Either
   * keeps a replica that ended while a delegate record it left connected reads its end from it.
   */
  private void forget() {
    Instant cutoff = shared ? clock.instant().minus(FORGET_AFTER) : clock.instant();
    int n = replicas.forgetReplicas(cutoff, replicaId);
    if (n > 0) {
      log.info("forgot {} replicas not seen since {}", n, cutoff);
    }
  }

  /**
   * Records, on the store's executor, that this replica closed {@code closed} streams of
   * {@code tokenRow}. Unlike a periodic task, a confirmation skipped for a full queue does not come
   * again: the revoke waiting for it answers without this replica's streams, so that is a warning.
   */
  private void confirm(long tokenRow, int closed) {
    if (!dispatch("revocation confirmation", () -> replicas.recordRevocationAck(tokenRow, replicaId, closed,
        clock.instant())) && !storeWork.isShutdown()) {
      log.warn("the confirmation that this replica closed {} streams of token {} was not recorded: the cluster work"
          + " queue is full (the database is slow or away); the revoke's answer will not count them", closed,
          registry.describe(tokenRow));
    }
  }

  /**
   * Runs {@code task} on the store's executor; a full queue skips a periodic task (the next one
   * comes). Returns whether the task was queued.
   */
  private boolean dispatch(String what, Runnable task) {
    try {
      storeWork.execute(() -> {
        try {
          task.run();
        } catch (StoreException | IllegalStateException e) {
          log.warn("{} failed: {}", what, e.getMessage());
        }
      });
    } catch (RejectedExecutionException full) {
      log.debug("{} skipped: store work queue full or stopping", what);
      return false;
    }
    return true;
  }

  /** Stops the feed and returns once its thread has ended; the store may close after this. */
  @Override
  public void close() {
    feed.close();
    waiting.values().forEach(w -> {
      synchronized (w) {
        w.notifyAll();
      }
    });
  }
}
