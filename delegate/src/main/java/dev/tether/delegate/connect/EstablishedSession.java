package dev.tether.delegate.connect;

import java.time.Duration;

/**
 * A session won by a handshake: its id, the session key that authenticates later calls, the
 * channel binding (hash of the manager certificate) the handshake's proofs covered, and the
 * heartbeat interval the manager asked for. The key never leaves this process.
 */
public final class EstablishedSession {

  private final byte[] sessionId;
  private final byte[] sessionKey;
  private final Duration heartbeatInterval;
  private final String tokenPublicId;
  private final byte[] channelBinding;

  EstablishedSession(byte[] sessionId, byte[] sessionKey, byte[] channelBinding, Duration heartbeatInterval,
      String tokenPublicId) {
    this.sessionId = sessionId;
    this.sessionKey = sessionKey;
    this.channelBinding = channelBinding;
    this.heartbeatInterval = heartbeatInterval;
    this.tokenPublicId = tokenPublicId;
  }

  byte[] sessionId() {
    return sessionId;
  }

  byte[] sessionKey() {
    return sessionKey;
  }

  /** SHA-256 of the certificate the manager presented during the handshake; empty without TLS. */
  byte[] channelBinding() {
    return channelBinding;
  }

  /**
   * Opens a successor token sealed for this session (docs/protocol.md 6.3); throws
   * {@link java.security.GeneralSecurityException} when it was sealed for another session, rotation
   * or public id, or altered on the way.
   */
  public byte[] openSuccessor(String rotationId, String successorTokenId, byte[] sealed)
      throws java.security.GeneralSecurityException {
    return dev.tether.common.handshake.RotationCrypto.open(sessionKey, sessionId, rotationId, successorTokenId, sealed);
  }

  public Duration heartbeatInterval() {
    return heartbeatInterval;
  }

  public String tokenPublicId() {
    return tokenPublicId;
  }

  @Override
  public String toString() {
    return "EstablishedSession[" + tokenPublicId + "]";
  }
}
