package dev.tether.manager.revocation;

import dev.tether.manager.metrics.ManagerMetrics;
import java.time.Clock;
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
   * fence a revoke has just raised. Returns the raising's number, for {@link #lift}.
   */
  public long revoking(long tokenRow) {
    TokenFence fence = registry.fence(tokenRow);
    synchronized (fence) {
      revokingHere.merge(tokenRow, 1, Integer::sum);
      registry.raiseFence(tokenRow);
      return fence.countRaising();
    }
  }

  /**
   * Raises {@code tokenRow}'s fence for its expiry, which commits next and then cuts it whatever
   * the commit's outcome: a {@link #lift} decided before this raising does not lower it.
   */
  public void expiring(long tokenRow) {
    TokenFence fence = registry.fence(tokenRow);
    synchronized (fence) {
      registry.raiseFence(tokenRow);
      fence.countRaising();
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
   * The number of the latest raising of {@code tokenRow}'s fence, or -1 if a revoke of the token runs
   * here, both read in one step: read it before reading the token from the store, and give it to
   * {@link #lift}.
   */
  public long raisingsUnlessRevoking(long tokenRow) {
    TokenFence fence = registry.fence(tokenRow);
    synchronized (fence) {
      return beingRevokedHere(tokenRow) ? -1 : fence.raisings();
    }
  }

  /**
   * Lowers the fence of a token that the store read active after a revoke that did not commit,
   * unless something may have decided otherwise since: the fence was raised again after
   * {@code raisings} (read before the store was), another revoke of the token is running here
   * ({@code byItsRevoke}: the caller is a revoke, and counts itself out), the token was cut (it has
   * ended), or its expiry time ({@code expiresAt}, null for none) has come on {@code clock}. Returns
   * whether it lowered the fence; when it did not and the token was not cut, the caller asks the
   * store again later.
   */
  public boolean lift(long tokenRow, long raisings, Instant expiresAt, Clock clock, boolean byItsRevoke) {
    TokenFence fence = registry.fence(tokenRow);
    synchronized (fence) {
      int others = revokingHere.getOrDefault(tokenRow, 0) - (byItsRevoke ? 1 : 0);
      if (others > 0 || fence.cut() || fence.raisings() != raisings
          || (expiresAt != null && !clock.instant().isBefore(expiresAt))) {
        return false;
      }
      registry.lowerFence(tokenRow);
      return true;
    }
  }

  /**
   * Cuts {@code tokenRow} as {@link #cut} does, unless a revoke of it running here holds its fence
   * up: that revoke cuts the streams right after its commit and counts them (the admin answer's
   * {@code streams_closed}). The cut left to it counts as a raising of the fence, so that the
   * revoke, should its own commit fail, does not lower the fence of a token something else found
   * ended, but leaves it to the settling pass, which reads it again and cuts it. Returns the streams
   * closed, or -1 when it left them to the revoke.
   */
  public int cutUnlessRevoking(long tokenRow) {
    TokenFence fence = registry.fence(tokenRow);
    synchronized (fence) {
      // a revoke that failed and lowered the fence, still finishing, leaves nothing to skip for
      if (beingRevokedHere(tokenRow) && fence.revoked()) {
        fence.countRaising();
        return -1;
      }
      return cut(tokenRow);
    }
  }

  /** Whether {@code tokenRow} has been cut here (it has ended). */
  public boolean isCut(long tokenRow) {
    return registry.fence(tokenRow).cut();
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
