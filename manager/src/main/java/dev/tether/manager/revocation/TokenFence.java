package dev.tether.manager.revocation;

import java.time.Instant;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * The in-memory state of one token on this manager: whether it is fenced (revoked, or being
 * revoked), the live streams it authenticated, and how many heartbeats it had accepted.
 */
public final class TokenFence {

  private final long tokenRow;
  private volatile boolean revoked;
  /** Its streams were cut because the token has ended: the fence never comes down again. */
  private volatile boolean cut;
  /** How many times a revoke or an expiry raised the fence here; changed under this object's monitor. */
  private volatile long raisings;
  private volatile String publicId;
  private volatile Instant expiresAt;
  private final Set<LiveStream> streams = ConcurrentHashMap.newKeySet();
  private final LongAdder acceptedHeartbeats = new LongAdder();

  TokenFence(long tokenRow) {
    this.tokenRow = tokenRow;
  }

  public long tokenRow() {
    return tokenRow;
  }

  /** The token's public id, once a stream of it registered here. */
  String publicId() {
    return publicId;
  }

  void publicId(String value) {
    publicId = value;
  }

  /** The token's expiry time, once a stream of it registered here; null if it has none. */
  Instant expiresAt() {
    return expiresAt;
  }

  void expiresAt(Instant value) {
    expiresAt = value;
  }

  public boolean revoked() {
    return revoked;
  }

  void revoked(boolean value) {
    revoked = value;
  }

  /** Whether {@link TokenCutter#cut} has cut the token here (it has ended, whoever decided it). */
  public boolean cut() {
    return cut;
  }

  void markCut() {
    cut = true;
  }

  /** How many times a revoke or an expiry has raised the fence (see {@link TokenCutter#lift}). */
  long raisings() {
    return raisings;
  }

  /** Counts a raising; the caller holds this object's monitor. Returns the new count. */
  long countRaising() {
    return ++raisings;
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
