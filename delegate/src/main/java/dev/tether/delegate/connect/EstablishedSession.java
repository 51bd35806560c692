package dev.tether.delegate.connect;

import java.time.Duration;

/**
 * A session won by a handshake: its id, the session key that authenticates later calls, and the
 * heartbeat interval the manager asked for. The key never leaves this process.
 */
public final class EstablishedSession {

  private final byte[] sessionId;
  private final byte[] sessionKey;
  private final Duration heartbeatInterval;
  private final String tokenPublicId;

  EstablishedSession(byte[] sessionId, byte[] sessionKey, Duration heartbeatInterval, String tokenPublicId) {
    this.sessionId = sessionId;
    this.sessionKey = sessionKey;
    this.heartbeatInterval = heartbeatInterval;
    this.tokenPublicId = tokenPublicId;
  }

  byte[] sessionId() {
    return sessionId;
  }

  byte[] sessionKey() {
    return sessionKey;
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
