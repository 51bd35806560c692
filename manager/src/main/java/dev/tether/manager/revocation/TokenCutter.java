package dev.tether.manager.revocation;

import dev.tether.manager.metrics.ManagerMetrics;
import java.time.Instant;
import java.util.Map;
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
  /** Tokens a revoke on this manager is committing and then cutting ({@link #revoking}), and how many revokes. */
  private final Map<Long, Integer> revokingHere = new ConcurrentHashMap<>();

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
   * {@link #doneRevoking}, and raises its fence (waiting for heartbeats already being handled). The
   * other paths that cut ({@code Cluster.apply}: reconciliation, and this replica's own
   * announcement of the commit) then leave the token's streams to that revoke, which cuts them right
   * after its commit, so that the revoke's count (the admin answer's {@code streams_closed}) is the
   * full count. Without it, a pass that read the committed revoke first closed the streams, and the
   * revoke reported 0. The mark and the fence go up together, so that {@link #lift} never lowers a
   * fence a revoke has just raised.
   */
  public void revoking(long tokenRow) {
    synchronized (registry.fence(tokenRow)) {
      revokingHere.merge(tokenRow, 1, Integer::sum);
      registry.raiseFence(tokenRow);
    }
  }

  /** A revoke of {@code tokenRow} has cut its streams here, or failed to commit. */
  public void doneRevoking(long tokenRow) {
    revokingHere.computeIfPresent(tokenRow, (row, running) -> running == 1 ? null : running - 1);
  }

  /** Whether a revoke on this manager is between raising {@code tokenRow}'s fence and cutting it. */
  public boolean beingRevokedHere(long tokenRow) {
    return revokingHere.containsKey(tokenRow);
  }

  /**
   * Lowers the fence of a token that the store still reads active after a revoke that did not
   * commit, unless something has decided otherwise meanwhile: another revoke of it is running here
   * ({@code byItsRevoke}: the caller is a revoke, and counts itself out), it has been cut (it has
   * ended), or its expiry time ({@code expiresAt}, null for none) has come. Returns whether it
   * lowered the fence.
   */
  public boolean lift(long tokenRow, Instant expiresAt, Instant now, boolean byItsRevoke) {
    TokenFence fence = registry.fence(tokenRow);
    synchronized (fence) {
      int others = revokingHere.getOrDefault(tokenRow, 0) - (byItsRevoke ? 1 : 0);
      if (others > 0 || fence.cut() || (expiresAt != null && !now.isBefore(expiresAt))) {
        return false;
      }
      registry.lowerFence(tokenRow);
      return true;
    }
  }

  /** Cuts {@code tokenRow} here; returns how many live streams this pass closed. No I/O. */
  public int cut(long tokenRow) {
    synchronized (registry.fence(tokenRow)) {
      registry.raiseFence(tokenRow);
      registry.fence(tokenRow).markCut();
      dropSessions.accept(tokenRow);
      int closed = registry.closeAll(tokenRow);
      metrics.streamsClosedByRevocation(closed);
      return closed;
    }
  }
}
