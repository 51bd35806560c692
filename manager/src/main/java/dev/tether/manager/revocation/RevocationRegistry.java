package dev.tether.manager.revocation;

import io.grpc.ServerCall;
import io.grpc.Status;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;

/**
 * Every live authenticated delegate call on this manager, grouped by token, and the per-token
 * fence that revocation raises before it commits. Registration and revocation follow the same
 * order in opposite directions (add, then check the fence; raise the fence, then sweep), so a
 * call registering while its token is revoked is always either swept or refused.
 */
public final class RevocationRegistry {

  /** The status every stream of a revoked token is closed with. */
  public static final Status REVOKED = Status.UNAUTHENTICATED.withDescription("delegate token revoked");

  private final ConcurrentMap<Long, TokenFence> fences = new ConcurrentHashMap<>();

  public TokenFence fence(long tokenId) {
    return fences.computeIfAbsent(tokenId, TokenFence::new);
  }

  public boolean isFenced(long tokenId) {
    TokenFence fence = fences.get(tokenId);
    return fence != null && fence.revoked();
  }

  /**
   * Registers an authenticated call. Returns the live handle, already closed with {@link #REVOKED}
   * when the token was fenced meanwhile.
   */
  public LiveStream register(ServerCall<?, ?> call, long tokenId, String description) {
    TokenFence fence = fence(tokenId);
    LiveStream stream = new LiveStream(call, fence, description);
    fence.streams().add(stream);
    if (fence.revoked()) {
      stream.closeWith(REVOKED);
    }
    return stream;
  }

  /** Forgets a call that has ended and tells its end listeners. */
  public void unregister(LiveStream stream) {
    stream.fence().streams().remove(stream);
    stream.ended();
  }

  /**
   * Raises the fence: from now on no heartbeat of the token is accepted and no call registers.
   * Returns once every acceptance that began before the fence went up has finished, so that a
   * commit made after this call is strictly after the last accepted heartbeat.
   */
  public void raiseFence(long tokenId) {
    TokenFence fence = fence(tokenId);
    fence.revoked(true);
    for (LiveStream stream : fence.streams()) {
      stream.awaitIdle();
    }
  }

  /** Lowers the fence after a revocation that did not commit. */
  public void lowerFence(long tokenId) {
    fence(tokenId).revoked(false);
  }

  /** Closes every live call of the token with {@link #REVOKED}; returns how many it closed. */
  public int closeAll(long tokenId) {
    TokenFence fence = fences.get(tokenId);
    if (fence == null) {
      return 0;
    }
    int closed = 0;
    for (LiveStream stream : fence.streams()) {
      if (stream.closeWith(REVOKED)) {
        closed++;
      }
    }
    return closed;
  }

  /** Tokens with live calls on this manager (what reconciliation must check). */
  public List<Long> liveTokenIds() {
    List<Long> ids = new ArrayList<>();
    for (TokenFence fence : fences.values()) {
      if (!fence.streams().isEmpty()) {
        ids.add(fence.tokenId());
      }
    }
    return ids;
  }

  /** Total live calls on this manager. */
  public int liveCount() {
    int n = 0;
    for (TokenFence fence : fences.values()) {
      n += fence.streams().size();
    }
    return n;
  }

  /** Drops the state of a deleted token. */
  public void forget(long tokenId) {
    fences.remove(tokenId);
  }
}
