package dev.tether.manager.auth;

/**
 * Seals a successor token for the one delegate stream it belongs to (docs/protocol.md 6.3), without
 * handing the session key out of this package: the stream's {@link Session} does it, with its key.
 * It also says whose stream that is, so that the stream keeps one reference for both.
 */
public interface SuccessorSealer {

  /** Who the stream is from, as its handshake proved. */
  DelegateIdentity identity();

  /** What {@code RotateToken.sealed_successor} carries for this stream's session. */
  byte[] seal(String rotationId, String successorTokenId, byte[] value);
}
