package dev.tether.manager.auth;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A completed handshake: the session key that authenticates later calls, the identity it proved,
 * and the highest call sequence number seen (a call is accepted only with a larger one).
 */
final class Session {

  private final String id;
  private final byte[] sessionId;
  private final byte[] key;
  private final DelegateIdentity identity;
  private final AtomicLong lastSequence = new AtomicLong();
  private final AtomicInteger liveCalls = new AtomicInteger();
  private volatile long lastActiveNanos;

  Session(String id, byte[] sessionId, byte[] key, DelegateIdentity identity, long nowNanos) {
    this.id = id;
    this.sessionId = sessionId;
    this.key = key;
    this.identity = identity;
    this.lastActiveNanos = nowNanos;
  }

  String id() {
    return id;
  }

  byte[] sessionId() {
    return sessionId;
  }

  byte[] key() {
    return key;
  }

  DelegateIdentity identity() {
    return identity;
  }

  /** Accepts {@code sequence} if it is larger than every one seen before. */
  boolean advanceTo(long sequence) {
    while (true) {
      long last = lastSequence.get();
      if (sequence <= last) {
        return false;
      }
      if (lastSequence.compareAndSet(last, sequence)) {
        return true;
      }
    }
  }

  void callStarted(long nowNanos) {
    liveCalls.incrementAndGet();
    lastActiveNanos = nowNanos;
  }

  void callEnded(long nowNanos) {
    liveCalls.decrementAndGet();
    lastActiveNanos = nowNanos;
  }

  boolean idleSince(long cutoffNanos) {
    return liveCalls.get() == 0 && lastActiveNanos - cutoffNanos < 0;
  }

  @Override
  public String toString() {
    return "Session[" + identity.accountId() + "/" + identity.tokenPublicId() + "]";
  }
}
