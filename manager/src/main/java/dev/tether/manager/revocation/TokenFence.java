package dev.tether.manager.revocation;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * The in-memory state of one token on this manager: whether it is fenced (revoked, or being
 * revoked), the live streams it authenticated, and how many heartbeats it had accepted.
 */
public final class TokenFence {

  private final long tokenId;
  private volatile boolean revoked;
  private final Set<LiveStream> streams = ConcurrentHashMap.newKeySet();
  private final LongAdder acceptedHeartbeats = new LongAdder();

  TokenFence(long tokenId) {
    this.tokenId = tokenId;
  }

  public long tokenId() {
    return tokenId;
  }

  public boolean revoked() {
    return revoked;
  }

  void revoked(boolean value) {
    revoked = value;
  }

  Set<LiveStream> streams() {
    return streams;
  }

  void heartbeatAccepted() {
    acceptedHeartbeats.increment();
  }

  /** Heartbeats accepted on streams of this token since this manager started. */
  public long acceptedHeartbeats() {
    return acceptedHeartbeats.sum();
  }
}
