package dev.tether.manager.auth;

import dev.tether.common.handshake.HandshakeCrypto;
import dev.tether.common.handshake.RotationCrypto;
import java.lang.ref.WeakReference;
import java.nio.ByteBuffer;
import java.util.concurrent.atomic.AtomicIntegerFieldUpdater;
import java.util.concurrent.atomic.AtomicLongFieldUpdater;

/**
 * A completed handshake: the session key that authenticates later calls, the identity it proved,
 * the connection it was proved on, and the highest call sequence number seen (a call is accepted
 * only with a larger one, compared as unsigned 64-bit numbers). A session carries one delegate
 * stream: it is claimed by its first accepted call and dropped when that call ends, so a stolen or
 * relayed session cannot open a second stream. It seals the successor tokens its stream is handed
 * ({@link SuccessorSealer}).
 */
final class Session implements SuccessorSealer {

  private static final AtomicLongFieldUpdater<Session> LAST_SEQUENCE =
      AtomicLongFieldUpdater.newUpdater(Session.class, "lastSequence");
  private static final AtomicIntegerFieldUpdater<Session> CLAIMED =
      AtomicIntegerFieldUpdater.newUpdater(Session.class, "claimed");

  // A claimed session lives as long as its stream, one per connected delegate: its fields are what
  // it needs and no more (field updaters rather than atomic objects, the key as four numbers
  // rather than an array beside it, the waiting key dropped once the stream has claimed it, the
  // connection the transport's own object).
  private final SessionId id;
  /** The session key S (docs/protocol.md 4.5), its 32 bytes in order; made an array when it is used. */
  private final long key0;
  private final long key1;
  private final long key2;
  private final long key3;
  private final DelegateIdentity identity;
  /**
   * The connection its handshake came on ({@link TransportInfo#connection()}). While the session
   * waits for its stream, a {@link WeakReference} to it: a waiting session keeps nothing of a
   * connection that has closed (its TLS session and engine are a kilobyte or more), and can then
   * never be claimed. Once its stream has claimed it, the connection itself, which that stream's
   * transport keeps anyway, so that a later call with the session is still told apart by its
   * connection. Null once the session was dropped without a stream.
   */
  private volatile Object connection;
  private String waitingKey;
  private final long createdNanos;
  private volatile long lastSequence;
  private volatile int claimed;

  Session(SessionId id, byte[] key, DelegateIdentity identity, Object connection, String waitingKey, long nowNanos) {
    this.waitingKey = waitingKey;
    this.id = id;
    if (key.length != HandshakeCrypto.KEY_BYTES) {
      throw new IllegalArgumentException("a session key has " + HandshakeCrypto.KEY_BYTES + " bytes, not " + key.length);
    }
    ByteBuffer bytes = ByteBuffer.wrap(key);
    this.key0 = bytes.getLong();
    this.key1 = bytes.getLong();
    this.key2 = bytes.getLong();
    this.key3 = bytes.getLong();
    this.identity = identity;
    this.connection = new WeakReference<>(connection);
    this.createdNanos = nowNanos;
  }

  /** What the sessions are found by. */
  SessionId handle() {
    return id;
  }

  /** The id as the delegate sends it ({@code tether-session-id}). */
  String id() {
    return id.text();
  }

  /** The id's 16 bytes, as the call MAC and the rotation's sealing take them (a copy). */
  byte[] sessionId() {
    return id.bytes();
  }

  /** The session key (a new array each time: the session keeps it as numbers). */
  byte[] key() {
    return ByteBuffer.allocate(HandshakeCrypto.KEY_BYTES).putLong(key0).putLong(key1).putLong(key2).putLong(key3).array();
  }

  @Override
  public DelegateIdentity identity() {
    return identity;
  }

  /**
   * Whether {@code transportConnection} ({@link TransportInfo#connection()}) is the very
   * connection this session's handshake came on (the same object: see {@link TransportInfo}).
   */
  @SuppressWarnings("unchecked")
  boolean provedOn(Object transportConnection) {
    Object provedOn = connection;
    if (transportConnection == null || provedOn == null) {
      return false;
    }
    return provedOn instanceof WeakReference<?> waiting ? ((WeakReference<Object>) waiting).refersTo(transportConnection)
        : provedOn == transportConnection;
  }

  /**
   * The token and source under which this session counts while it waits for its stream, handed
   * out once: by the one caller that {@link #claim claimed} the session, to stop counting it.
   */
  String takeWaitingKey() {
    String key = waitingKey;
    waitingKey = null;
    return key;
  }

  /** Accepts {@code sequence} (unsigned) if it is larger than every one seen before. */
  boolean advanceTo(long sequence) {
    while (true) {
      long last = lastSequence;
      if (Long.compareUnsigned(sequence, last) <= 0) {
        return false;
      }
      if (LAST_SEQUENCE.compareAndSet(this, last, sequence)) {
        return true;
      }
    }
  }

  /**
   * Takes the session for its one stream, on {@code claimedOn} (the stream's connection, which
   * {@link #provedOn} has checked; null to drop the session without a stream); false if it was
   * taken already.
   */
  boolean claim(Object claimedOn) {
    if (!CLAIMED.compareAndSet(this, 0, 1)) {
      return false;
    }
    connection = claimedOn;
    return true;
  }

  /** Whether nobody claimed the session since {@code cutoffNanos}. */
  boolean unusedSince(long cutoffNanos) {
    return claimed == 0 && createdNanos - cutoffNanos < 0;
  }

  @Override
  public byte[] seal(String rotationId, String successorTokenId, byte[] value) {
    return RotationCrypto.seal(key(), id.bytes(), rotationId, successorTokenId, value);
  }

  @Override
  public String toString() {
    return "Session[" + identity.accountId() + "/" + identity.tokenPublicId() + "]";
  }
}
