package dev.tether.manager.revocation;

import dev.tether.manager.metrics.ManagerMetrics;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
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
  /** Tokens a revoke on this manager is committing and then cutting ({@link #revoking}). */
  private final Set<Long> revokingHere = ConcurrentHashMap.newKeySet();

  public TokenCutter(RevocationRegistry registry, LongConsumer dropSessions, ManagerMetrics metrics) {
    this.registry = registry;
    this.dropSessions = dropSessions;
    this.metrics = metrics;
  }

  /** A cutter whose counts nothing scrapes (tests of other parts). */
  public TokenCutter(RevocationRegistry registry, LongConsumer dropSessions) {
    this(registry, dropSessions, ManagerMetrics.unscraped());
  }

  /**
   * Marks {@code tokenRow} as being revoked by this manager, from before its commit until
   * {@link #doneRevoking}: the other paths that cut ({@code Cluster.apply}: reconciliation, and this
   * replica's own announcement of the commit) then leave the token's streams to that revoke, which
   * cuts them right after its commit, so that the revoke's count (the admin answer's
   * {@code streams_closed}) is the full count. Without it, a pass that read the committed revoke
   * first closed the streams, and the revoke reported 0.
   */
  public void revoking(long tokenRow) {
    revokingHere.add(tokenRow);
  }

  /** The revoke of {@code tokenRow} has cut its streams here, or failed to commit. */
  public void doneRevoking(long tokenRow) {
    revokingHere.remove(tokenRow);
  }

  /** Whether a revoke on this manager is between raising {@code tokenRow}'s fence and cutting it. */
  public boolean beingRevokedHere(long tokenRow) {
    return revokingHere.contains(tokenRow);
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
