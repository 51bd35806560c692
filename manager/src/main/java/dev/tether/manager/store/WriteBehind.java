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

  private final TetherStore store;
  private final Ticker ticker;
  private final long heartbeatWriteEveryNanos;
  private final ConcurrentMap<String, Instant> heartbeats = new ConcurrentHashMap<>();
  private final ConcurrentMap<Long, Instant> tokenUses = new ConcurrentHashMap<>();
  /** When (ticker) each delegate's heartbeat time was last written. */
  private final Map<String, Long> heartbeatWrittenAt = new ConcurrentHashMap<>();

  public WriteBehind(TetherStore store, Ticker ticker, Duration heartbeatWriteEvery) {
    this.store = store;
    this.ticker = ticker;
    this.heartbeatWriteEveryNanos = heartbeatWriteEvery.toNanos();
  }

  public void heartbeat(String delegateId, Instant at) {
    heartbeats.put(delegateId, at);
  }

  /**
   * A delegate's registration wrote its row, last-heartbeat time included: its next time is due
   * {@code heartbeatWriteEvery} from now, not at the next flush. Under a herd of delegates coming
   * back after a restart, writing each one's first heartbeat time again was a tenth of the
   * manager's CPU (docs/benchmarks.md).
   */
  public void registered(String delegateId) {
    heartbeatWrittenAt.put(delegateId, ticker.read());
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
    Map<String, Instant> beats = drain(heartbeats);
    if (!all) {
      beats.entrySet().removeIf(e -> {
        Long writtenAt = heartbeatWrittenAt.get(e.getKey());
        boolean notDue = writtenAt != null && now - writtenAt < heartbeatWriteEveryNanos;
        if (notDue) {
          heartbeats.putIfAbsent(e.getKey(), e.getValue());
        }
        return notDue;
      });
    }
    // forget delegates not heard from for a while, so that the map does not grow with every delegate ever seen
    heartbeatWrittenAt.values().removeIf(writtenAt -> now - writtenAt > 2 * heartbeatWriteEveryNanos);
    Map<Long, Instant> uses = drain(tokenUses);
    try {
      store.recordHeartbeats(beats);
      beats.keySet().forEach(id -> heartbeatWrittenAt.put(id, now));
    } catch (StoreException e) {
      beats.forEach(heartbeats::putIfAbsent);
      log.warn("could not record {} heartbeat times, will retry: {}", beats.size(), e.getMessage());
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
