package dev.tether.manager.heartbeat;

import com.google.common.base.Ticker;
import dev.tether.manager.metrics.ManagerMetrics;
import dev.tether.manager.revocation.LiveStream;
import dev.tether.manager.store.StoreException;
import dev.tether.manager.store.TetherStore;
import dev.tether.manager.store.WriteBehind;
import io.grpc.Status;
import java.time.Clock;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The delegates connected to this manager right now, with the monotonic time of their last
 * heartbeat. Ends the stream of a delegate that misses its heartbeats, and records disconnects in
 * the store off the gRPC threads, in order.
 */
public final class DelegateTracker {

  private static final Logger log = LoggerFactory.getLogger(DelegateTracker.class);

  private final TetherStore store;
  private final WriteBehind writeBehind;
  private final ExecutorService storeWriter;
  private final Clock clock;
  private final Ticker ticker;
  private final HeartbeatSettings settings;
  private final ManagerMetrics metrics;
  private final Map<LiveStream, Connected> live = new ConcurrentHashMap<>();
  private volatile boolean stopping;

  public DelegateTracker(TetherStore store, WriteBehind writeBehind, ExecutorService storeWriter,
      Clock clock, Ticker ticker, HeartbeatSettings settings, ManagerMetrics metrics) {
    this.metrics = metrics;
    this.store = store;
    this.writeBehind = writeBehind;
    this.storeWriter = storeWriter;
    this.clock = clock;
    this.ticker = ticker;
    this.settings = settings;
  }

  private static final class Connected {
    final String delegateId;
    final String accountId;
    final java.time.Instant since;
    volatile long lastHeartbeatNanos;

    Connected(String delegateId, String accountId, java.time.Instant since, long now) {
      this.delegateId = delegateId;
      this.accountId = accountId;
      this.since = since;
      this.lastHeartbeatNanos = now;
    }
  }

  /**
   * A registered delegate's stream (of account {@code accountId}), connected {@code since}, is live;
   * its end is recorded whoever ends it.
   */
  public void connected(LiveStream stream, String delegateId, String accountId, java.time.Instant since) {
    writeBehind.registered(delegateId);
    stream.delegateId(delegateId);
    live.put(stream, new Connected(delegateId, accountId, since, ticker.read()));
    metrics.delegatesConnected(accountId, 1);
    stream.onEnd(this::ended);
  }

  /** Records a heartbeat; called under the stream's lock, so it is cheap: no I/O. */
  public void heartbeat(LiveStream stream) {
    Connected c = live.get(stream);
    if (c != null) {
      c.lastHeartbeatNanos = ticker.read();
      writeBehind.heartbeat(c.delegateId, clock.instant());
    }
  }

  private void ended(LiveStream stream) {
    Connected c = live.remove(stream);
    if (c == null) {
      return;
    }
    metrics.delegatesConnected(c.accountId, -1);
    recordDisconnect(c.delegateId, c.since, stream.closeStatus());
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
    var at = clock.instant();
    try {
      storeWriter.execute(() -> {
        try {
          store.delegateDisconnected(delegateId, since, at, reason);
        } catch (StoreException e) {
          log.warn("could not record disconnect of delegate {}: {}", delegateId, e.getMessage());
        }
      });
    } catch (RejectedExecutionException stopping) {
      // the manager is stopping: it records every delegate as disconnected itself
      log.debug("delegate {} ended during shutdown", delegateId);
    }
  }

  /** Ends streams that missed {@code missedIntervals} heartbeats; returns how many. */
  public int expireSilent() {
    long cutoff = ticker.read() - settings.livenessTimeout().toNanos();
    int expired = 0;
    for (Map.Entry<LiveStream, Connected> e : live.entrySet()) {
      if (e.getValue().lastHeartbeatNanos - cutoff < 0) {
        log.info("delegate {} missed {} heartbeats, closing its stream", e.getValue().delegateId,
            settings.missedIntervals());
        if (e.getKey().closeWith(Status.DEADLINE_EXCEEDED.withDescription(
            "no heartbeat for " + settings.livenessTimeout().toMillis() + " ms"))) {
          expired++;
        }
      }
    }
    return expired;
  }

  /**
   * Closes every live stream (shutdown). Their ends are not recorded one by one: with thousands of
   * delegates that is thousands of commits, racing the store's close; the caller records them all.
   */
  public void closeAll(Status status) {
    stopping = true;
    for (LiveStream stream : live.keySet()) {
      stream.closeWith(status);
    }
  }

  public int size() {
    return live.size();
  }

  private static String describe(Status status) {
    String description = status.getDescription();
    return status.getCode() + (description == null ? "" : ": " + description);
  }
}
