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

  /** No heartbeat time waiting to be written; no time written yet. */
  private static final long NONE = Long.MIN_VALUE;

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
   * step of the map: {@code waiting} is the heartbeat time to write in nanoseconds since the epoch,
   * {@code writtenAt} the ticker when the last one was written, either {@link #NONE}.
   */
  private record Beat(long waiting, long writtenAt) {}

  public WriteBehind(TetherStore store, Ticker ticker, Duration heartbeatWriteEvery) {
    this.store = store;
    this.ticker = ticker;
    this.heartbeatWriteEveryNanos = heartbeatWriteEvery.toNanos();
  }

  public void heartbeat(String delegateId, Instant at) {
    long waiting = epochNanos(at);
    beats.compute(delegateId, (id, beat) -> new Beat(waiting, beat == null ? NONE : beat.writtenAt()));
  }

  /**
   * A delegate's registration wrote its row, last-heartbeat time included: its next time is due
   * {@code heartbeatWriteEvery} from now, not at the next flush. Under a herd of delegates coming
   * back after a restart, writing each one's first heartbeat time again was a tenth of the
   * manager's CPU (docs/benchmarks.md).
   */
  public void registered(String delegateId) {
    long now = ticker.read();
    beats.compute(delegateId, (id, beat) -> new Beat(beat == null ? NONE : beat.waiting(), now));
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
      if (beat.waiting() == NONE) {
        // forget delegates not heard from for a while, so that the map does not grow with every
        // delegate ever seen (a heartbeat meanwhile replaced the entry, which stays)
        if (beat.writtenAt() == NONE || now - beat.writtenAt() > 2 * heartbeatWriteEveryNanos) {
          beats.remove(id, beat);
        }
        continue;
      }
      if (!all && beat.writtenAt() != NONE && now - beat.writtenAt() < heartbeatWriteEveryNanos) {
        continue;
      }
      // taken only if no heartbeat replaced it meanwhile; a newer one is written at the next flush
      if (beats.replace(id, beat, new Beat(NONE, beat.writtenAt()))) {
        due.put(id, instant(beat.waiting()));
      }
    }
    Map<Long, Instant> uses = drain(tokenUses);
    try {
      store.recordHeartbeats(due);
      due.keySet().forEach(id -> beats.compute(id,
          (key, beat) -> new Beat(beat == null ? NONE : beat.waiting(), now)));
    } catch (StoreException e) {
      // kept for the next flush, unless a newer time came meanwhile
      due.forEach((id, at) -> beats.compute(id, (key, beat) -> beat == null ? new Beat(epochNanos(at), NONE)
          : beat.waiting() == NONE ? new Beat(epochNanos(at), beat.writtenAt()) : beat));
      log.warn("could not record {} heartbeat times, will retry: {}", due.size(), e.getMessage());
    }
    try {
      store.recordTokensUsed(uses);
    } catch (StoreException e) {
      uses.forEach(tokenUses::putIfAbsent);
      log.warn("could not record last use of {} tokens, will retry: {}", uses.size(), e.getMessage());
    }
  }

  /** Nanoseconds since the epoch: a long holds them until the year 2262. */
  private static long epochNanos(Instant at) {
    return Math.addExact(Math.multiplyExact(at.getEpochSecond(), 1_000_000_000L), at.getNano());
  }

  private static Instant instant(long epochNanos) {
    return Instant.ofEpochSecond(Math.floorDiv(epochNanos, 1_000_000_000L), Math.floorMod(epochNanos, 1_000_000_000L));
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
