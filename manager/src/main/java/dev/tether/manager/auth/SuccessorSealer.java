package dev.tether.manager.auth;

import dev.tether.common.handshake.RotationCrypto;

/**
 * Seals a successor token for the one delegate stream it belongs to (docs/protocol.md 6.3), without
 * handing the session key out of this package.
 */
public final class SuccessorSealer {

  private final byte[] sessionKey;
  private final byte[] sessionId;

  SuccessorSealer(byte[] sessionKey, byte[] sessionId) {
    this.sessionKey = sessionKey;
    this.sessionId = sessionId;
  }

  /** What {@code RotateToken.sealed_successor} carries for this stream's session. */
  public byte[] seal(String rotationId, String successorTokenId, byte[] value) {
    return RotationCrypto.seal(sessionKey, sessionId, rotationId, successorTokenId, value);
  }

  @Override
  public String toString() {
    return "SuccessorSealer[session]";
  }
}
