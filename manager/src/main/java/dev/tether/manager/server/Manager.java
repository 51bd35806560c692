package dev.tether.manager.server;

import com.google.common.base.Ticker;
import dev.tether.manager.admin.AdminAuthInterceptor;
import dev.tether.manager.admin.AdminCalls;
import dev.tether.manager.admin.AdminDirectory;
import dev.tether.manager.admin.AdminServices;
import dev.tether.manager.console.ConsoleSessions;
import dev.tether.manager.auth.DelegateSessionInterceptor;
import dev.tether.manager.auth.HandshakeLimiter;
import dev.tether.manager.auth.HandshakeService;
import dev.tether.manager.auth.MalformedMessages;
import dev.tether.manager.auth.SessionRegistry;
import dev.tether.manager.auth.TransportInterceptor;
import dev.tether.manager.cluster.Cluster;
import dev.tether.manager.heartbeat.DelegateStreamService;
import dev.tether.manager.heartbeat.DelegateTracker;
import dev.tether.common.ops.OpsMetrics;
import dev.tether.manager.logging.RefusalReporter;
import dev.tether.manager.metrics.AdminCallMetrics;
import dev.tether.manager.metrics.ManagerMetrics;
import dev.tether.manager.revocation.RevocationRegistry;
import dev.tether.manager.revocation.TokenCutter;
import dev.tether.manager.rotation.RotationService;
import dev.tether.manager.store.StoreException;
import dev.tether.manager.store.TetherStore;
import dev.tether.manager.store.WriteBehind;
import dev.tether.manager.token.ExpiryScheduler;
import dev.tether.manager.token.MasterKey;
import dev.tether.manager.token.TokenService;
import io.grpc.BindableService;
import io.grpc.ServerBuilder;
import io.grpc.ServerInterceptors;
import io.grpc.Status;
import java.time.Clock;
import java.util.Optional;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A manager's parts, wired: store, token service, handshake, delegate streams, revocation
 * registry and the background tasks. The production server and the in-process test servers are
 * both built by {@link #addServicesTo}, handed a different {@link ServerBuilder}.
 */
public final class Manager implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(Manager.class);
  private final AtomicBoolean closed = new AtomicBoolean();
  private static final java.time.Duration REFUSAL_INTERVAL = java.time.Duration.ofMinutes(1);
  private static final int MAX_REFUSAL_PAIRS = 1000;

  private final TetherStore store;
  private final ManagerSettings settings;
  private final Clock clock;
  private final RevocationRegistry registry = new RevocationRegistry();
  private final SessionRegistry sessions;
  private final WriteBehind writeBehind;
  private final DelegateTracker tracker;
  private final TokenService tokens;
  private final HandshakeService handshakes;
  private final DelegateStreamService streams;
  /** Timers: deadlines, liveness, and the dispatch of periodic work. They never do I/O. */
  private final ScheduledExecutorService scheduler;
  /** Writes that record what delegates did (disconnects, heartbeat times, audit of refusals), in order. */
  private final ExecutorService storeWriter;
  /** Replica coordination and expiries: database work of its own, so that neither waits on the other. */
  private final ExecutorService clusterWork;
  private final ExpiryScheduler expiry;
  private final RotationService rotations;
  /** Rotations' periodic work (database reads, pushes, a revoke at the end): off the shared timer. */
  private final ScheduledThreadPoolExecutor rotationWork = new ScheduledThreadPoolExecutor(1, daemon("tether-rotation"));
  private final HandshakeLimiter limiter;
  private final Cluster cluster;
  private final RefusalReporter adminRefusals;
  private final RefusalReporter adminDenials;
  private final AdminCalls adminCalls = new AdminCalls();
  private final AdminDirectory admins;
  private final ConsoleSessions consoleSessions;
  /** Refused handshakes and delegate calls: one line per source and reason a minute, with a count. */
  private final RefusalReporter handshakeRefusals;
  private final RefusalReporter callRefusals;
  private final ManagerMetrics metrics;
  /** Runs the readiness check's database round trip, one at a time, off the caller's thread. */
  private final ExecutorService readinessCheck = java.util.concurrent.Executors.newSingleThreadExecutor(
      daemon("tether-readiness"));
  private java.util.concurrent.Future<?> ping;

  public Manager(TetherStore store, MasterKey masterKey, ManagerSettings settings, Clock clock, Ticker ticker) {
    this(store, masterKey, settings, clock, ticker, new ManagerMetrics(OpsMetrics.registry()));
  }

  public Manager(TetherStore store, MasterKey masterKey, ManagerSettings settings, Clock clock, Ticker ticker,
      ManagerMetrics metrics) {
    this.metrics = metrics;
    store.measure(metrics);
    this.store = store;
    this.settings = settings;
    this.clock = clock;
    ScheduledThreadPoolExecutor timers = new ScheduledThreadPoolExecutor(1, daemon("tether-timer"));
    // at close, pending timers (handshake deadlines, expiries) are dropped, the running task finishes
    timers.setExecuteExistingDelayedTasksAfterShutdownPolicy(false);
    this.scheduler = timers;
    // bounded queues: a database that stops answering does not make them grow without limit; a
    // full writer queue makes its callers wait (they write themselves), a full cluster queue skips
    // a periodic task (the next one comes)
    this.storeWriter = new ThreadPoolExecutor(1, 1, 0, TimeUnit.MILLISECONDS, new ArrayBlockingQueue<>(100_000),
        daemon("tether-store-writer"), new ThreadPoolExecutor.CallerRunsPolicy());
    this.clusterWork = new ThreadPoolExecutor(1, 1, 0, TimeUnit.MILLISECONDS, new ArrayBlockingQueue<>(1_000),
        daemon("tether-cluster"), new ThreadPoolExecutor.AbortPolicy());
    this.sessions = new SessionRegistry(ticker, settings.sessionUnusedTtl(), settings.maxWaitingSessionsPerToken());
    this.writeBehind = new WriteBehind(store, ticker, settings.heartbeat().heartbeatWriteEvery(),
        DelegateTracker.connectedIn(registry));
    this.tracker = new DelegateTracker(store, writeBehind, storeWriter,
        pass -> timers.schedule(pass, DelegateTracker.WRITE_DELAY.toMillis(), TimeUnit.MILLISECONDS),
        clock, ticker, settings.heartbeat(), metrics, registry);
    TokenCutter cutter = new TokenCutter(registry, sessions::removeToken, metrics);
    String replicaId = "rep_" + java.util.UUID.randomUUID().toString().substring(0, 8);
    // every JSON log line of this process names its replica (a logback context property)
    if (LoggerFactory.getILoggerFactory() instanceof ch.qos.logback.classic.LoggerContext logging) {
      logging.putProperty("replica", replicaId);
    }
    this.cluster = new Cluster(store, store, store, store.revocationFeed(replicaId), store.shared(), replicaId,
        registry, cutter, clock, settings.cluster(), scheduler, clusterWork, metrics);
    this.tokens = new TokenService(store, masterKey, registry, cutter, cluster, clock, metrics);
    this.limiter = new HandshakeLimiter(settings.limits(), ticker);
    this.handshakeRefusals = new RefusalReporter("handshake refused", LoggerFactory.getLogger(HandshakeService.class),
        REFUSAL_INTERVAL, MAX_REFUSAL_PAIRS, ticker, r -> { });
    this.callRefusals = new RefusalReporter("delegate call refused",
        LoggerFactory.getLogger(DelegateSessionInterceptor.class), REFUSAL_INTERVAL, MAX_REFUSAL_PAIRS, ticker, r -> { });
    this.handshakes = new HandshakeService(store, masterKey, registry, sessions, writeBehind,
        scheduler, clock, settings.handshakeTimeout(), settings.heartbeat().interval(), limiter, handshakeRefusals,
        metrics);
    this.rotations = new RotationService(store, tokens, masterKey, clock, settings.rotation(), registry,
        rotationWork);
    this.streams = new DelegateStreamService(store, tracker, clock, settings.heartbeat(), cluster.replicaId(), metrics,
        rotations);
    this.expiry = new ExpiryScheduler(store, tokens, scheduler, clusterWork, clock);
    this.adminRefusals = AdminAuthInterceptor.refusalReporter(store, clock, ticker);
    this.adminDenials = AdminAuthInterceptor.denialReporter(store, clock, ticker);
    this.admins = new AdminDirectory(store, masterKey, adminCalls, clock);
    this.consoleSessions = new ConsoleSessions(clock);
    // a revoked admin's console sessions end with its calls, here and when the feed reports another replica's
    adminCalls.onRevoked(consoleSessions::closeAll);
    // an admin revoked on another replica: its calls here end as soon as the feed says so, and after
    // a gap in the feed, those of admins revoked meanwhile
    cluster.onAdminRevocations(adminCalls::endAll, () -> dispatchToCluster("admin reconciliation", admins::reconcile));
  }

  /** A manager on the system clocks. */
  public static Manager create(TetherStore store, MasterKey masterKey, ManagerSettings settings) {
    return new Manager(store, masterKey, settings, Clock.systemUTC(), Ticker.systemTicker());
  }

  /** A manager on the system clocks whose meters are {@code metrics}. */
  public static Manager create(TetherStore store, MasterKey masterKey, ManagerSettings settings,
      ManagerMetrics metrics) {
    return new Manager(store, masterKey, settings, Clock.systemUTC(), Ticker.systemTicker(), metrics);
  }

  /** Adds the delegate-facing services, with their interceptors, to {@code builder}. */
  public <T extends ServerBuilder<T>> T addServicesTo(T builder) {
    TransportInterceptor transport = new TransportInterceptor();
    builder.addService(ServerInterceptors.intercept(
        MalformedMessages.lenient(handshakes.bindService(), MalformedMessages.HANDSHAKE), transport));
    // the session check reads the transport's facts itself: one context per delegate stream
    builder.addService(ServerInterceptors.intercept(streams,
        new DelegateSessionInterceptor(sessions, registry, callRefusals, transport, metrics.grpcCalls())));
    return builder;
  }

  /**
   * Adds the {@code tether.admin.v1} services, each admitting only calls of an active admin whose
   * role the method needs.
   */
  public <T extends ServerBuilder<T>> T addAdminServicesTo(T builder) {
    return addAdminServicesTo(builder, new AdminAuthInterceptor(admins, adminCalls, store, clock, adminRefusals,
        adminDenials));
  }

  /**
   * Adds the same services for the web console's in-process server: calls are admitted for the
   * admin of an open console session, with the same roles, audit and revocation.
   */
  public <T extends ServerBuilder<T>> T addConsoleServicesTo(T builder, AdminAuthInterceptor.Authenticator sessions) {
    return addAdminServicesTo(builder, new AdminAuthInterceptor(sessions, adminCalls, store, clock, adminRefusals,
        adminDenials));
  }

  private <T extends ServerBuilder<T>> T addAdminServicesTo(T builder, AdminAuthInterceptor auth) {
    AdminCallMetrics counted = new AdminCallMetrics(metrics);
    for (BindableService service : new AdminServices(tokens, rotations, store, expiry, admins, consoleSessions,
        clock, settings.minTokenLifetime()).services()) {
      // the last interceptor runs first: every call is counted, those refused by auth included
      builder.addService(ServerInterceptors.intercept(service, auth, counted));
    }
    return builder;
  }

  /** Marks delegates left connected by an earlier run as disconnected and starts the timers. */
  public Manager start() {
    tokens.resealLegacyKeys();
    if (!store.shared()) {
      // a single manager owns the database: an earlier run that did not record its end (killed) has
      // ended now, and whatever it recorded as connected reads as disconnected (one row per run)
      int unended = store.earlierRunsEnded(cluster.replicaId(), clock.instant(), "manager restarted");
      if (unended > 0) {
        log.info("{} earlier runs had not recorded their end (killed, or stopped by a version before schema 10):"
            + " the delegates they left connected are shown disconnected", unended);
      }
    }
    cluster.start();
    expiry.refresh();
    rotationWork.scheduleWithFixedDelay(guarded("rotations", rotations::tick), 0, 1, TimeUnit.SECONDS);
    // tokens with an expiry created on other replicas: found here within a reconciliation interval
    long refresh = settings.cluster().reconcileInterval().toMillis();
    scheduler.scheduleWithFixedDelay(() -> dispatchToCluster("expiry refresh", expiry::refresh), refresh, refresh,
        TimeUnit.MILLISECONDS);
    // a token fenced by a revoke whose outcome the store could not tell: settled once it answers again
    scheduler.scheduleWithFixedDelay(() -> dispatchToCluster("revocations in doubt", tokens::settleInDoubt), refresh,
        refresh, TimeUnit.MILLISECONDS);
    long interval = settings.heartbeat().interval().toMillis();
    scheduler.scheduleWithFixedDelay(guarded("liveness check", tracker::expireSilent),
        interval, Math.max(interval / 2, 10), TimeUnit.MILLISECONDS);
    long flush = settings.heartbeat().flushInterval().toMillis();
    scheduler.scheduleWithFixedDelay(() -> dispatchToWriter("heartbeat flush", writeBehind::flush), flush, flush,
        TimeUnit.MILLISECONDS);
    long ttl = settings.sessionUnusedTtl().toMillis();
    scheduler.scheduleWithFixedDelay(guarded("session expiry", sessions::expireUnused),
        ttl, Math.max(ttl / 4, 10), TimeUnit.MILLISECONDS);
    scheduler.scheduleWithFixedDelay(guarded("limiter sweep", limiter::sweep), 60, 60, TimeUnit.SECONDS);
    long every = REFUSAL_INTERVAL.toMillis() / 4;
    scheduler.scheduleWithFixedDelay(guarded("refusal counts", () -> {
      handshakeRefusals.flush();
      callRefusals.flush();
    }), every, every, TimeUnit.MILLISECONDS);
    // the counts of refused admin calls are audit rows: written by the store thread, not the timer
    long refusals = adminRefusals.interval().toMillis() / 4;
    scheduler.scheduleWithFixedDelay(() -> dispatchToWriter("refusal counts", () -> {
      adminRefusals.flush();
      adminDenials.flush();
    }), refusals, refusals,
        TimeUnit.MILLISECONDS);
    return this;
  }

  public Cluster cluster() {
    return cluster;
  }

  public RotationService rotations() {
    return rotations;
  }

  public TokenService tokens() {
    return tokens;
  }

  /** The clock everything this manager records is timed by (audit, sessions, expiry). */
  public Clock clock() {
    return clock;
  }

  /** The web console's sessions and one-time sign-in codes on this manager. */
  public ConsoleSessions consoleSessions() {
    return consoleSessions;
  }

  /** Who refused admin calls are reported to (the console's failed sign-ins too). */
  public RefusalReporter adminRefusals() {
    return adminRefusals;
  }

  public AdminDirectory admins() {
    return admins;
  }

  public RevocationRegistry registry() {
    return registry;
  }

  public DelegateTracker tracker() {
    return tracker;
  }

  public TetherStore store() {
    return store;
  }

  public ManagerMetrics metrics() {
    return metrics;
  }

  /**
   * Empty while this manager can serve: not stopping, and the database answers within 2 s;
   * otherwise why not, in one line. One database round trip at a time, whoever asks.
   */
  public Optional<String> notReady() {
    if (closed.get()) {
      return Optional.of("manager stopping");
    }
    java.util.concurrent.Future<?> check;
    synchronized (this) {
      if (ping == null || ping.isDone()) {
        try {
          ping = readinessCheck.submit(store::ping);
        } catch (RejectedExecutionException stopping) {
          return Optional.of("manager stopping");
        }
      }
      check = ping;
    }
    try {
      check.get(2, TimeUnit.SECONDS);
      return Optional.empty();
    } catch (java.util.concurrent.TimeoutException e) {
      return Optional.of("database did not answer within 2 s");
    } catch (java.util.concurrent.ExecutionException e) {
      String why = String.valueOf(e.getCause().getMessage()).replaceAll("\\s+", " ");
      return Optional.of("database not answering: " + why);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return Optional.of("readiness check interrupted");
    }
  }

  /** Writes buffered state and waits for queued store writes, so that reads see them. */
  public void flush() {
    writeBehind.flushAll();
    try {
      // the ends recorded so far, even one whose own pass is not queued yet
      storeWriter.submit(tracker::writeWaitingDisconnects).get(10, TimeUnit.SECONDS);
    } catch (Exception e) {
      log.warn("store writer did not drain: {}", e.toString());
    }
  }

  /**
   * Closes every live stream with UNAVAILABLE, records this run's end (every delegate it leaves
   * connected reads as disconnected from then on), writes token use times and the heartbeat times
   * that are due, and closes the store. Call after the gRPC
   * server has stopped accepting calls.
   * Calls that still arrive are refused with UNAVAILABLE. A second call does nothing.
   */
  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    long t0 = System.nanoTime();
    // the closes are queued to the connections, which the server drains after this; no stream's end
    // is waited for, as none is recorded one by one any more: the run's end, below, is one row
    tracker.stop();
    // registrations first: the batch committing now finishes before any stream is closed, so that a
    // delegate cut by this stop registers on another replica only after it, and that replica's newer
    // row is not overwritten by this one's; those still waiting are refused, and their streams closed
    // as the stop closes the rest
    store.refuseRegistrations();
    // every call, those whose delegate has not registered yet included
    registry.closeEvery(Status.UNAVAILABLE.withDescription("manager shutting down"));
    // the revocation feed runs until every stream is closed: a revoke on another replica while the
    // registrations above finish still cuts its streams here
    cluster.close();
    long streamsEnded = System.nanoTime();
    // at once, before other replicas could take the silence that follows for a lost replica: one
    // row, whatever the number of delegates (rewriting each delegate's row took 7 to 9 s under
    // 10 000 reconnecting delegates). The ends written below, and any registration still committing,
    // set each row's own state, which reads before the run's end.
    try {
      store.replicaEnded(cluster.replicaId(), clock.instant(), "manager stopped");
    } catch (StoreException e) {
      log.warn("could not record this manager's end at shutdown: {}; its delegates are shown disconnected"
          + " when it starts again (with replicas: once another finds it lost)", e.getMessage());
    }
    long endRecorded = System.nanoTime();
    // not shutdownNow: interrupting a task inside a database write closes H2's file under it
    rotationWork.shutdown();
    try {
      rotationWork.awaitTermination(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    scheduler.shutdown();
    try {
      scheduler.awaitTermination(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    // the cluster's work ends before the store closes (the feed's thread has ended already)
    clusterWork.shutdown();
    try {
      clusterWork.awaitTermination(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    // not shutdownNow: interrupting H2 inside a query closes its file
    readinessCheck.shutdown();
    adminRefusals.close();
    adminDenials.close();
    handshakeRefusals.close();
    callRefusals.close();
    long timersDone = System.nanoTime();
    // token use times, and the heartbeat times that are due; the rest are at most 3 heartbeat
    // intervals older than the run's end recorded above, and writing 10 000 of them took 5 s
    writeBehind.flush();
    long flushed = System.nanoTime();
    // the ends recorded before the stop, whose delayed pass the timer's shutdown dropped (and any
    // end that raced the stop's flag): written with their own reasons, which read before the run's
    // end recorded above
    storeWriter.execute(tracker::writeWaitingDisconnects);
    storeWriter.shutdown();
    try {
      storeWriter.awaitTermination(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    long written = System.nanoTime();
    store.close();
    log.info("stop: streams closed {} ms, the run's end recorded {} ms, timers finished {} ms, heartbeat times"
        + " written {} ms, waiting ends written {} ms, database closed {} ms", ms(streamsEnded - t0),
        ms(endRecorded - streamsEnded), ms(timersDone - endRecorded), ms(flushed - timersDone),
        ms(written - flushed), ms(System.nanoTime() - written));
  }

  private static long ms(long nanos) {
    return nanos / 1_000_000;
  }

  /** From a timer: the I/O runs on the writer, never on the timer thread. */
  private void dispatchToWriter(String what, Runnable task) {
    try {
      storeWriter.execute(guarded(what, task));
    } catch (RejectedExecutionException stopping) {
      log.debug("{} skipped: the manager is stopping", what);
    }
  }

  private void dispatchToCluster(String what, Runnable task) {
    try {
      clusterWork.execute(guarded(what, task));
    } catch (RejectedExecutionException full) {
      log.debug("{} skipped: cluster work queue full or stopping", what);
    }
  }

  private static Runnable guarded(String what, Runnable task) {
    return () -> {
      try {
        task.run();
      } catch (RuntimeException e) {
        log.warn("{} failed: {}", what, e.toString());
      }
    };
  }

  private static ThreadFactory daemon(String name) {
    AtomicInteger n = new AtomicInteger();
    return r -> {
      Thread t = new Thread(r, name + "-" + n.incrementAndGet());
      t.setDaemon(true);
      return t;
    };
  }
}
