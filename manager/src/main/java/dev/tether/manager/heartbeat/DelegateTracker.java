package dev.tether.manager.heartbeat;

import com.google.common.base.Ticker;
import dev.tether.manager.metrics.ManagerMetrics;
import dev.tether.manager.revocation.LiveStream;
import dev.tether.manager.revocation.RevocationRegistry;
import dev.tether.manager.store.DelegateStore;
import dev.tether.manager.store.StoreException;
import dev.tether.manager.store.TetherStore;
import dev.tether.manager.store.WriteBehind;
import dev.tether.proto.delegate.v1.DelegateMessage;
import io.grpc.ServerCall;
import io.grpc.Status;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The delegates connected to this manager right now, with the monotonic time of their last
 * heartbeat. Ends the stream of a delegate that misses its heartbeats, and records disconnects in
 * the store off the gRPC threads, those that end together in shared transactions.
 */
public final class DelegateTracker {

  private static final Logger log = LoggerFactory.getLogger(DelegateTracker.class);
  /** Largest number of disconnects written in one transaction. */
  static final int DISCONNECTS_PER_COMMIT = 4096;
  /**
   * How long after a stream's end the writer runs: the ends that come meanwhile share its
   * transactions. A revoke that cut 10 000 streams spent more of the manager's CPU in 40 commits
   * of 256 ends, made while the closes were still being sent, than in sending them
   * (docs/benchmarks.md); after this delay they are written in a few commits, once the closes
   * are out.
   */
  public static final Duration WRITE_DELAY = Duration.ofSeconds(1);
  /**
   * Disconnects that may wait to be written; beyond them one is logged and not recorded (the
   * delegate shows connected until the manager stops, or until another replica finds it lost).
   */
  static final int MAX_DISCONNECTS_WAITING = 100_000;

  private final TetherStore store;
  private final WriteBehind writeBehind;
  private final ExecutorService storeWriter;
  /** Runs its task {@link #WRITE_DELAY} from now (the manager's timer). */
  private final Consumer<Runnable> afterDelay;
  private final Clock clock;
  private final Ticker ticker;
  private final HeartbeatSettings settings;
  private final ManagerMetrics metrics;
  /** Where the live streams are: each registered one carries its {@link Entry}. */
  private final RevocationRegistry streams;
  /** Disconnects waiting for the store writer, which writes them together ({@link #writeWaitingDisconnects}). */
  private final Queue<DelegateStore.Disconnect> disconnects = new ConcurrentLinkedQueue<>();
  private final AtomicInteger disconnectsWaiting = new AtomicInteger();
  /** Whether a pass of {@link #writeWaitingDisconnects} is due or queued on the store writer and has not begun. */
  private final AtomicBoolean drainQueued = new AtomicBoolean();
  private volatile boolean stopping;
  /** Records the end of a registered stream, whose entry it finds on the stream: one for all of them. */
  private final Consumer<LiveStream> recordEnd = this::ended;

  /**
   * Disconnects are written on {@code storeWriter}, a pass {@code afterDelay} (a task the manager's
   * timer runs {@link #WRITE_DELAY} later) after the first end that no pass has taken yet.
   */
  public DelegateTracker(TetherStore store, WriteBehind writeBehind, ExecutorService storeWriter,
      Consumer<Runnable> afterDelay, Clock clock, Ticker ticker, HeartbeatSettings settings, ManagerMetrics metrics,
      RevocationRegistry streams) {
    this.streams = streams;
    this.metrics = metrics;
    this.store = store;
    this.writeBehind = writeBehind;
    this.storeWriter = storeWriter;
    this.afterDelay = afterDelay;
    this.clock = clock;
    this.ticker = ticker;
    this.settings = settings;
  }

  /**
   * What the tracker keeps for a registered stream, kept on the stream itself
   * ({@link LiveStream#trackerEntry}); its end is recorded by one listener for all the streams
   * ({@link #recordEnd}), which finds the entry there. The stream's own state
   * (the stream service's connection) extends it, so that the tracker adds no object to a connected
   * delegate; the connection time is kept as a number rather than an {@link java.time.Instant} of its
   * own. It also keeps the delegate's heartbeat times for the write-behind ({@link WriteBehind.Live}),
   * which finds the entries through the streams ({@link #connectedIn}) rather than in a map of its
   * own. Its fields are written by {@link #connected} before the entry is set on the stream. It is
   * a {@link ServerCall.Listener} (which has no state of its own) so that the connection, which
   * extends it, can be the stream's listener as well.
   */
  abstract static class Entry extends ServerCall.Listener<DelegateMessage> implements WriteBehind.Live {
    /** When it connected, in milliseconds since the epoch (the precision the store keeps). */
    private long sinceMillis;
    private volatile long lastHeartbeatNanos;
    /** The newest heartbeat's time, and the one last written, for the write-behind ({@link WriteBehind.Live}). */
    private volatile long heartbeatMillis;
    private volatile long writtenMillis;
    private volatile long writtenAt;

    /** The delegate's id, once its row is written. */
    @Override
    public abstract String delegateId();

    /** The delegate's account. */
    abstract String accountId();

    private java.time.Instant since() {
      return java.time.Instant.ofEpochMilli(sinceMillis);
    }

    @Override
    public final long heartbeatMillis() {
      return heartbeatMillis;
    }

    @Override
    public final long writtenMillis() {
      return writtenMillis;
    }

    @Override
    public final long writtenAt() {
      return writtenAt;
    }

    @Override
    public final void written(long millis, long at) {
      writtenMillis = millis;
      writtenAt = at;
    }
  }

  /**
   * A registered delegate's stream, whose state is {@code entry}, is live since {@code since}; its
   * end is recorded whoever ends it.
   */
  void connected(LiveStream stream, Entry entry, java.time.Instant since) {
    if (stream.trackerEntry() != null) {
      throw new IllegalStateException("the stream of delegate " + entry.delegateId() + " is connected already");
    }
    long now = ticker.read();
    // the registration wrote the row with this time as its last heartbeat: the next is due a
    // write interval from now (see WriteBehind.Live)
    entry.sinceMillis = since.toEpochMilli();
    entry.heartbeatMillis = entry.sinceMillis;
    entry.written(entry.sinceMillis, now);
    entry.lastHeartbeatNanos = now;
    stream.trackerEntry(entry);
    metrics.delegatesConnected(entry.accountId(), 1);
    stream.onEnd(recordEnd);
  }

  /** Records a heartbeat; called under the stream's lock, so it is cheap: no I/O. */
  public void heartbeat(LiveStream stream) {
    if (stream.trackerEntry() instanceof Entry c) {
      c.lastHeartbeatNanos = ticker.read();
      c.heartbeatMillis = clock.millis();
    }
  }

  private void ended(LiveStream stream) {
    if (!(stream.trackerEntry() instanceof Entry c) || !stream.clearTrackerEntry(c)) {
      return;
    }
    metrics.delegatesConnected(c.accountId(), -1);
    // its newest heartbeat time, if not written yet: the write-behind keeps it now (a stop included,
    // whose last flush writes those that are due)
    writeBehind.ended(c);
    recordDisconnect(c.delegateId(), c.since(), stream.closeStatus());
  }

  /**
   * A stream that was closed while its registration was being written: it never became live here,
   * so no end listener will record it; the row written as connected is recorded disconnected now.
   */
  public void endedBeforeRegistration(String delegateId, java.time.Instant since, Status status) {
    recordDisconnect(delegateId, since, status);
  }

  private void recordDisconnect(String delegateId, java.time.Instant since, Status status) {
    if (stopping) {
      // the manager records every delegate as disconnected in one write once the streams are closed
      return;
    }
    String reason = status == null ? "stream ended" : describe(status);
    if (disconnectsWaiting.incrementAndGet() > MAX_DISCONNECTS_WAITING) {
      disconnectsWaiting.decrementAndGet();
      log.warn("disconnect of delegate {} not recorded: {} disconnects are waiting to be written", delegateId,
          MAX_DISCONNECTS_WAITING);
      return;
    }
    disconnects.add(new DelegateStore.Disconnect(delegateId, since, clock.instant(), reason));
    if (drainQueued.compareAndSet(false, true)) {
      try {
        afterDelay.accept(this::queuePass);
      } catch (RejectedExecutionException e) {
        // a timer that refuses: the next disconnect tries again
        drainQueued.set(false);
        log.debug("delegate {} ended while the timer refused work (stopping?)", delegateId);
      }
    }
  }

  private void queuePass() {
    try {
      // the manager's writer runs the pass on this thread when its queue is full (CallerRunsPolicy)
      storeWriter.execute(this::writeWaitingDisconnects);
    } catch (RejectedExecutionException e) {
      // an executor that refuses: the next disconnect queues the pass again
      drainQueued.set(false);
      log.debug("{} delegate ends waiting while the store writer refused work (stopping?)", disconnectsWaiting.get());
    }
  }

  /**
   * Writes the disconnects waiting, up to {@value #DISCONNECTS_PER_COMMIT} a transaction: streams
   * that end together (a revoke, a network failure) share commits instead of queueing thousands of
   * them behind one another. Runs on the store writer; {@code Manager.flush()} runs it there too, so
   * that every end recorded before the flush is written when it returns, and so does the manager's
   * stop, for the ends whose delayed pass had not run. A batch that fails for any
   * reason but an unreachable database is written again one end at a time (a deadlock with a
   * registration, one bad row), so that one failure loses no other delegate's end.
   */
  public void writeWaitingDisconnects() {
    // cleared before taking: a disconnect added from here on queues another pass
    drainQueued.set(false);
    List<DelegateStore.Disconnect> batch = new ArrayList<>();
    DelegateStore.Disconnect next;
    do {
      next = disconnects.poll();
      if (next != null) {
        batch.add(next);
      }
      if (batch.size() == DISCONNECTS_PER_COMMIT || (next == null && !batch.isEmpty())) {
        disconnectsWaiting.addAndGet(-batch.size());
        write(batch);
        batch = new ArrayList<>();
      }
    } while (next != null);
  }

  private void write(List<DelegateStore.Disconnect> batch) {
    try {
      store.delegatesDisconnected(batch);
      return;
    } catch (StoreException e) {
      if (batch.size() == 1) {
        log.warn("could not record the disconnect of delegate {}: {}", batch.get(0).delegateId(), e.getMessage());
        return;
      }
      if (e.isConnectivity()) {
        log.warn("could not record the disconnects of {} delegates ({} and others): {}", batch.size(),
            batch.get(0).delegateId(), e.getMessage());
        return;
      }
    }
    for (DelegateStore.Disconnect d : batch) {
      try {
        store.delegatesDisconnected(List.of(d));
      } catch (StoreException e) {
        log.warn("could not record the disconnect of delegate {}: {}", d.delegateId(), e.getMessage());
        if (e.isConnectivity()) {
          return;
        }
      }
    }
  }

  /**
   * What the write-behind reads the connected delegates' heartbeat times from: the entries of the
   * streams registered in {@code streams}, each handed to its argument.
   */
  public static Consumer<Consumer<WriteBehind.Live>> connectedIn(RevocationRegistry streams) {
    return action -> streams.forEachStream(stream -> {
      if (stream.trackerEntry() instanceof Entry c) {
        action.accept(c);
      }
    });
  }

  /** Ends streams that missed {@code missedIntervals} heartbeats; returns how many. */
  public int expireSilent() {
    long cutoff = ticker.read() - settings.livenessTimeout().toNanos();
    int[] expired = {0};
    streams.forEachStream(stream -> {
      if (stream.trackerEntry() instanceof Entry c && c.lastHeartbeatNanos - cutoff < 0) {
        log.info("delegate {} missed {} heartbeats, closing its stream", c.delegateId(), settings.missedIntervals());
        if (stream.closeWith(Status.DEADLINE_EXCEEDED.withDescription(
            "no heartbeat for " + settings.livenessTimeout().toMillis() + " ms"))) {
          expired[0]++;
        }
      }
    });
    return expired[0];
  }

  /**
   * The manager stops: the ends of streams are no longer recorded one by one (with thousands of
   * delegates that is thousands of writes, racing the store's close); the manager closes every
   * stream and records them all in one write.
   */
  public void stop() {
    stopping = true;
  }

  /** Streams registered here and not ended: those that carry an entry. */
  public int size() {
    int[] n = {0};
    streams.forEachStream(stream -> {
      if (stream.trackerEntry() instanceof Entry) {
        n[0]++;
      }
    });
    return n[0];
  }

  private static String describe(Status status) {
    String description = status.getDescription();
    return status.getCode() + (description == null ? "" : ": " + description);
  }
}
