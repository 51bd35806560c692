package dev.tether.manager.store;

import com.google.common.base.Ticker;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.function.BinaryOperator;
import java.util.function.Consumer;
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
 * (docs/benchmarks.md). A connected delegate's times are kept by its stream ({@link Live}), whose
 * registration wrote its first time, so its next is due {@code heartbeatWriteEvery} after that;
 * the time of a delegate whose stream ended before it was written is kept here
 * ({@link #ended}) and written when it is due.
 */
public final class WriteBehind {

  private static final Logger log = LoggerFactory.getLogger(WriteBehind.class);

  /** No time written yet (a ticker reading of exactly this value is taken as none: one in 2^64). */
  private static final long NEVER = Long.MIN_VALUE;
  /** In {@link Beat#waitingNanos}: no heartbeat time waiting to be written. */
  private static final int NOTHING = -1;
  /** Of two times of one delegate in a batch, the one written. */
  private static final BinaryOperator<Instant> LATER = BinaryOperator.maxBy(Comparator.naturalOrder());

  private final TetherStore store;
  private final Ticker ticker;
  private final long heartbeatWriteEveryNanos;
  /** Runs its argument for each connected delegate's {@link Live} times (the delegate tracker's entries). */
  private final Consumer<Consumer<Live>> connected;
  /**
   * Per delegate whose stream ended with a heartbeat time not yet written: that time, and when
   * (ticker) its time was last written. A connected delegate's times are on its stream
   * ({@link Live}): a map entry and an object for every connected delegate were 70 bytes of every
   * connection (docs/benchmarks.md, heap per connection).
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

  /**
   * A connected delegate's heartbeat times, which its stream keeps (the delegate tracker's entry
   * for the stream is one), so that a heartbeat writes two fields of an object the stream has
   * anyway. Its registration wrote its row, last-heartbeat time included, and sets
   * {@link #writtenMillis} and {@link #writtenAt} to that: its next time is due
   * {@code heartbeatWriteEvery} after it, not at the next flush (under a herd of delegates coming
   * back after a restart, writing each one's first heartbeat time again was a tenth of the
   * manager's CPU, docs/benchmarks.md). Only the write-behind changes the written time, under its
   * lock; a heartbeat changes {@link #heartbeatMillis} only, so one that arrives while its
   * predecessor is written stays waiting.
   */
  public interface Live {
    String delegateId();

    /** The newest heartbeat's time, milliseconds since the epoch (the stored precision). */
    long heartbeatMillis();

    /** The time last written (or by the registration). */
    long writtenMillis();

    /** When (ticker) {@link #writtenMillis} was written. */
    long writtenAt();

    /** {@code millis} was written at {@code at} (ticker). */
    void written(long millis, long at);
  }

  /**
   * With each connected delegate's times read from the {@link Live} objects that
   * {@code connected} hands its argument, one after another.
   */
  public WriteBehind(TetherStore store, Ticker ticker, Duration heartbeatWriteEvery,
      Consumer<Consumer<Live>> connected) {
    this.store = store;
    this.ticker = ticker;
    this.heartbeatWriteEveryNanos = heartbeatWriteEvery.toNanos();
    this.connected = connected;
  }

  /**
   * {@code live}'s stream is over: its newest heartbeat time, if not yet written, is kept here and
   * written when it would have been ({@code heartbeatWriteEvery} after its last write; at once by
   * {@link #flushAll}), unless a later time of the delegate's is already waiting here (a stream
   * of it that ended after a newer one).
   */
  public void ended(Live live) {
    long millis = live.heartbeatMillis();
    if (millis == live.writtenMillis()) {
      return;
    }
    Instant at = Instant.ofEpochMilli(millis);
    long writtenAt = live.writtenAt();
    beats.compute(live.delegateId(), (id, beat) -> beat != null && beat.waits() && !beat.waitingTime().isBefore(at)
        ? beat : Beat.waiting(at, writtenAt));
  }

  /** Records that {@code delegateId}'s time was written at {@code now} (ticker), if it is kept here; a time waiting stays. */
  private void markWritten(String delegateId, long now) {
    beats.computeIfPresent(delegateId, (id, beat) -> beat.writtenAt(now));
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

  /** A connected delegate's time taken for a write. */
  private record Taken(Live live, long millis) { }

  private void write(boolean all) {
    long now = ticker.read();
    Map<String, Instant> due = new HashMap<>();
    List<Taken> taken = new ArrayList<>();
    Map<String, Instant> ended = new HashMap<>();
    connected.accept(live -> {
      long millis = live.heartbeatMillis();
      if (millis == live.writtenMillis() || (!all && now - live.writtenAt() < heartbeatWriteEveryNanos)) {
        return;
      }
      taken.add(new Taken(live, millis));
      // two streams of one delegate (one not yet over, one just registered): the later time
      due.merge(live.delegateId(), Instant.ofEpochMilli(millis), LATER);
    });
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
        ended.put(id, beat.waitingTime());
        due.merge(id, beat.waitingTime(), LATER);
      }
    }
    Map<Long, Instant> uses = drain(tokenUses);
    try {
      store.recordHeartbeats(due);
      ended.keySet().forEach(id -> markWritten(id, now));
      taken.forEach(t -> t.live().written(t.millis(), now));
    } catch (StoreException e) {
      // kept for the next flush, unless a newer time came meanwhile (a connected delegate's stays
      // waiting on its stream: nothing was marked written)
      ended.forEach((id, at) -> beats.compute(id, (key, beat) -> beat == null ? Beat.waiting(at, NEVER)
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
