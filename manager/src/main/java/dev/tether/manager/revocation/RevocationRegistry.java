package dev.tether.manager.revocation;

import dev.tether.common.handshake.WireText;
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
  public static final Status REVOKED = Status.UNAUTHENTICATED.withDescription(WireText.TOKEN_REVOKED);

  private final ConcurrentMap<Long, TokenFence> fences = new ConcurrentHashMap<>();

  public TokenFence fence(long tokenRow) {
    return fences.computeIfAbsent(tokenRow, TokenFence::new);
  }

  public boolean isFenced(long tokenRow) {
    TokenFence fence = fences.get(tokenRow);
    return fence != null && fence.revoked();
  }

  /**
   * Registers an authenticated call. Returns the live handle, already closed with {@link #REVOKED}
   * when the token was fenced meanwhile.
   */
  public LiveStream register(ServerCall<?, ?> call, long tokenRow, String tokenPublicId, String description) {
    TokenFence fence = fence(tokenRow);
    fence.publicId(tokenPublicId);
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
  public void raiseFence(long tokenRow) {
    TokenFence fence = fence(tokenRow);
    fence.revoked(true);
    for (LiveStream stream : fence.streams()) {
      stream.awaitIdle();
    }
  }

  /** Lowers the fence after a revocation that did not commit. */
  public void lowerFence(long tokenRow) {
    fence(tokenRow).revoked(false);
  }

  /** Closes every live call of the token with {@link #REVOKED}; returns how many it closed. */
  public int closeAll(long tokenRow) {
    TokenFence fence = fences.get(tokenRow);
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
        ids.add(fence.tokenRow());
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

  /**
   * How a person should read a token in a log line: its public id where a stream of it registered
   * here, else its row in the tokens table (an internal number, never shown to delegates).
   */
  public String describe(long tokenRow) {
    TokenFence fence = fences.get(tokenRow);
    String publicId = fence == null ? null : fence.publicId();
    return publicId != null ? publicId : "in row " + tokenRow;
  }

  /** Drops the state of a deleted token. */
  public void forget(long tokenRow) {
    fences.remove(tokenRow);
  }
}
