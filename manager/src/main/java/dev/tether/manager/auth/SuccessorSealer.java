package dev.tether.manager.auth;

/**
 * Seals a successor token for the one delegate stream it belongs to (docs/protocol.md 6.3), without
 * handing the session key out of this package: the stream's {@link Session} does it, with its key.
 */
public interface SuccessorSealer {

  /** What {@code RotateToken.sealed_successor} carries for this stream's session. */
  byte[] seal(String rotationId, String successorTokenId, byte[] value);
}
