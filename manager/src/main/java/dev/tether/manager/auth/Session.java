package dev.tether.manager.auth;

import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A completed handshake: the session key that authenticates later calls, the identity it proved,
 * the connection it was proved on, and the highest call sequence number seen (a call is accepted
 * only with a larger one, compared as unsigned 64-bit numbers). A session carries one delegate
 * stream: it is claimed by its first accepted call and dropped when that call ends, so a stolen or
 * relayed session cannot open a second stream.
 */
final class Session {

  private final String id;
  private final byte[] sessionId;
  private final byte[] key;
  private final DelegateIdentity identity;
  private final String connection;
  private final String waitingKey;
  private final long createdNanos;
  private final AtomicLong lastSequence = new AtomicLong();
  private final AtomicBoolean claimed = new AtomicBoolean();

  Session(String id, byte[] sessionId, byte[] key, DelegateIdentity identity, String connection, String waitingKey,
      long nowNanos) {
    this.waitingKey = waitingKey;
    this.id = id;
    this.sessionId = sessionId;
    this.key = key;
    this.identity = identity;
    this.connection = connection;
    this.createdNanos = nowNanos;
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

  /** The connection (remote and local address) whose handshake established this session. */
  String connection() {
    return connection;
  }

  /** The token and source under which this session counts while it waits for its stream. */
  String waitingKey() {
    return waitingKey;
  }

  /** Accepts {@code sequence} (unsigned) if it is larger than every one seen before. */
  boolean advanceTo(long sequence) {
    while (true) {
      long last = lastSequence.get();
      if (Long.compareUnsigned(sequence, last) <= 0) {
        return false;
      }
      if (lastSequence.compareAndSet(last, sequence)) {
        return true;
      }
    }
  }

  /** Takes the session for its one stream; false if a call has taken it already. */
  boolean claim() {
    return claimed.compareAndSet(false, true);
  }

  boolean claimed() {
    return claimed.get();
  }

  /** Whether nobody claimed the session since {@code cutoffNanos}. */
  boolean unusedSince(long cutoffNanos) {
    return !claimed.get() && createdNanos - cutoffNanos < 0;
  }

  @Override
  public String toString() {
    return "Session[" + identity.accountId() + "/" + identity.tokenPublicId() + "]";
  }
}
