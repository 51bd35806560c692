package dev.tether.manager.store;

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
 * newest value per key is kept; {@link #flush()} runs on a schedule and at shutdown.
 */
public final class WriteBehind {

  private static final Logger log = LoggerFactory.getLogger(WriteBehind.class);

  private final TetherStore store;
  private final ConcurrentMap<String, Instant> heartbeats = new ConcurrentHashMap<>();
  private final ConcurrentMap<Long, Instant> tokenUses = new ConcurrentHashMap<>();

  public WriteBehind(TetherStore store) {
    this.store = store;
  }

  public void heartbeat(String delegateId, Instant at) {
    heartbeats.put(delegateId, at);
  }

  public void tokenUsed(long tokenId, Instant at) {
    tokenUses.put(tokenId, at);
  }

  /** Writes everything buffered; what fails to write is kept for the next flush. */
  public synchronized void flush() {
    Map<String, Instant> beats = drain(heartbeats);
    Map<Long, Instant> uses = drain(tokenUses);
    try {
      store.recordHeartbeats(beats);
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
