package dev.tether.manager.revocation;

import dev.tether.manager.metrics.ManagerMetrics;
import java.util.function.LongConsumer;

/**
 * The one way a token's streams are cut on this manager, whoever decided it: a revoke (after its
 * commit), an expiry, another replica's announcement, or reconciliation. It raises the token's
 * fence (waiting for heartbeats already being handled), drops the token's sessions, and closes
 * every live stream with {@link RevocationRegistry#REVOKED} and a trailer saying whether the token was
 * revoked or has expired ({@link RevocationRegistry#TOKEN_STATE}); one pass at a time per token, so that
 * the first pass closes every stream and reports the full count.
 */
public final class TokenCutter {

  private final RevocationRegistry registry;
  private final LongConsumer dropSessions;
  private final ManagerMetrics metrics;

  public TokenCutter(RevocationRegistry registry, LongConsumer dropSessions, ManagerMetrics metrics) {
    this.registry = registry;
    this.dropSessions = dropSessions;
    this.metrics = metrics;
  }

  /** A cutter whose counts nothing scrapes (tests of other parts). */
  public TokenCutter(RevocationRegistry registry, LongConsumer dropSessions) {
    this(registry, dropSessions, ManagerMetrics.unscraped());
  }

  /** Cuts {@code tokenRow} here; returns how many live streams this pass closed. No I/O. */
  public int cut(long tokenRow) {
    synchronized (registry.fence(tokenRow)) {
      registry.raiseFence(tokenRow);
      dropSessions.accept(tokenRow);
      int closed = registry.closeAll(tokenRow);
      metrics.streamsClosedByRevocation(closed);
      return closed;
    }
  }
}
