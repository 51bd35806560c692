package dev.tether.manager.store;

import com.google.common.base.Ticker;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Buffers the hot-path timestamps (a delegate's last heartbeat, a token's last use) and writes
 * them in batches, so that a heartbeat costs a map update rather than a database write. Only the
 * newest value per key is kept; {@link #flush()} runs on a schedule, {@link #flushAll()} at
 * shutdown and before reads that must see everything.
 *
 * <p>A delegate's last-heartbeat time is written at most once per {@code heartbeatWriteEvery}:
 * liveness is decided in memory, the stored time is for people listing delegates, and rewriting
 * every delegate's row at every flush was a quarter of the manager's CPU under heartbeat load
 * (docs/benchmarks.md). A delegate's first heartbeat time is written at the next flush, unless
 * its registration, which writes the time too, was {@link #registered recorded} here.
 */
public final class WriteBehind {

  private static final Logger log = LoggerFactory.getLogger(WriteBehind.class);

  /** No time written yet (a ticker reading of exactly this value is taken as none: one in 2^64). */
  private static final long NEVER = Long.MIN_VALUE;
  /** In {@link Beat#waitingNanos}: no heartbeat time waiting to be written. */
  private static final int NOTHING = -1;

  private final TetherStore store;
  private final Ticker ticker;
  private final long heartbeatWriteEveryNanos;
  /**
   * Per delegate heard from lately: its newest heartbeat time not yet written, and when (ticker)
   * its time was last written. One map and one small object a delegate, where a map of times
   * waiting and a map of times written kept two entries, an {@link Instant} and a {@link Long} for
   * every connected delegate (docs/benchmarks.md, heap per connection).
   */
  private final ConcurrentMap<String, Beat> beats = new ConcurrentHashMap<>();
  private final ConcurrentMap<Long, Instant> tokenUses = new ConcurrentHashMap<>();

  /**
   * A delegate's state here, replaced whole (never changed) so that every change is one atomic
   * step of the map: the heartbeat time to write (seconds since the epoch and nanoseconds, which
   * are {@link #NOTHING} when none waits) and the ticker when the last one was written
   * ({@link #NEVER} for never). 32 bytes, as an {@link Instant} alone is 24.
   */
  private record Beat(long waitingSeconds, int waitingNanos, long writtenAt) {

    static Beat waiting(Instant at, long writtenAt) {
      return new Beat(at.getEpochSecond(), at.getNano(), writtenAt);
    }

    static Beat written(long writtenAt) {
      return new Beat(0, NOTHING, writtenAt);
    }

    boolean waits() {
      return waitingNanos != NOTHING;
    }

    Instant waitingTime() {
      return Instant.ofEpochSecond(waitingSeconds, waitingNanos);
    }

    /** This beat with {@code writtenAt} as its last write. */
    Beat writtenAt(long at) {
      return new Beat(waitingSeconds, waitingNanos, at);
    }
  }

  public WriteBehind(TetherStore store, Ticker ticker, Duration heartbeatWriteEvery) {
    this.store = store;
    this.ticker = ticker;
    this.heartbeatWriteEveryNanos = heartbeatWriteEvery.toNanos();
  }

  public void heartbeat(String delegateId, Instant at) {
    beats.compute(delegateId, (id, beat) -> Beat.waiting(at, beat == null ? NEVER : beat.writtenAt()));
  }

  /**
   * A delegate's registration wrote its row, last-heartbeat time included: its next time is due
   * {@code heartbeatWriteEvery} from now, not at the next flush. Under a herd of delegates coming
   * back after a restart, writing each one's first heartbeat time again was a tenth of the
   * manager's CPU (docs/benchmarks.md).
   */
  public void registered(String delegateId) {
    markWritten(delegateId, ticker.read());
  }

  /** Records that {@code delegateId}'s time was written at {@code now} (ticker); a time waiting stays. */
  private void markWritten(String delegateId, long now) {
    beats.compute(delegateId, (id, beat) -> beat == null ? Beat.written(now) : beat.writtenAt(now));
  }

  public void tokenUsed(long tokenRow, Instant at) {
    tokenUses.put(tokenRow, at);
  }

  /**
   * Writes what is due: token uses, and the heartbeat times of delegates whose time was last
   * written {@code heartbeatWriteEvery} ago or never; the rest stays buffered. What fails to write
   * is kept for the next flush.
   */
  public synchronized void flush() {
    write(false);
  }

  /** Writes everything buffered (shutdown, and reads that must see the newest times). */
  public synchronized void flushAll() {
    write(true);
  }

  private void write(boolean all) {
    long now = ticker.read();
    Map<String, Instant> due = new HashMap<>();
    for (Map.Entry<String, Beat> e : beats.entrySet()) {
      String id = e.getKey();
      Beat beat = e.getValue();
      if (!beat.waits()) {
        // forget delegates not heard from for a while, so that the map does not grow with every
        // delegate ever seen (a heartbeat meanwhile replaced the entry, which stays)
        if (beat.writtenAt() == NEVER || now - beat.writtenAt() > 2 * heartbeatWriteEveryNanos) {
          beats.remove(id, beat);
        }
        continue;
      }
      if (!all && beat.writtenAt() != NEVER && now - beat.writtenAt() < heartbeatWriteEveryNanos) {
        continue;
      }
      // taken only if no heartbeat replaced it meanwhile; a newer one is written at the next flush
      if (beats.replace(id, beat, Beat.written(beat.writtenAt()))) {
        due.put(id, beat.waitingTime());
      }
    }
    Map<Long, Instant> uses = drain(tokenUses);
    try {
      store.recordHeartbeats(due);
      due.keySet().forEach(id -> markWritten(id, now));
    } catch (StoreException e) {
      // kept for the next flush, unless a newer time came meanwhile
      due.forEach((id, at) -> beats.compute(id, (key, beat) -> beat == null ? Beat.waiting(at, NEVER)
          : beat.waits() ? beat : Beat.waiting(at, beat.writtenAt())));
      log.warn("could not record {} heartbeat times, will retry: {}", due.size(), e.getMessage());
    }
    try {
      store.recordTokensUsed(uses);
    } catch (StoreException e) {
      uses.forEach(tokenUses::putIfAbsent);
      log.warn("could not record last use of {} tokens, will retry: {}", uses.size(), e.getMessage());
    }
  }

  private static <K> Map<K, Instant> drain(ConcurrentMap<K, Instant> source) {
    Map<K, Instant> out = new HashMap<>();
    for (K key : source.keySet()) {
      Instant value = source.remove(key);
      if (value != null) {
        out.put(key, value);
      }
    }
    return out;
  }
}
