package dev.tether.manager.revocation;

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

  public TokenCutter(RevocationRegistry registry, LongConsumer dropSessions) {
    this.registry = registry;
    this.dropSessions = dropSessions;
  }

  /** Cuts {@code tokenRow} here; returns how many live streams this pass closed. No I/O. */
  public int cut(long tokenRow) {
    synchronized (registry.fence(tokenRow)) {
      registry.raiseFence(tokenRow);
      dropSessions.accept(tokenRow);
      return registry.closeAll(tokenRow);
    }
  }
}
