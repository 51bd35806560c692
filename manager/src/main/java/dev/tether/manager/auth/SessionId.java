package dev.tether.manager.auth;

import static dev.tether.common.handshake.SessionMetadata.BASE64URL;

import dev.tether.common.handshake.HandshakeCrypto;
import java.nio.ByteBuffer;

/**
 * A session's 16-byte random id (docs/protocol.md 4.5) as two numbers: what the sessions are found
 * by. A connected delegate's session is kept for as long as its stream, and two numbers are 32
 * bytes where the id's text and bytes, kept beside each other, were 96 (docs/benchmarks.md); the
 * text and the bytes are made when they are asked for.
 */
record SessionId(long high, long low) {

  /** Characters of base64url without padding for 16 bytes. */
  private static final int TEXT_LENGTH = 22;

  static SessionId random() {
    return of(HandshakeCrypto.randomBytes(HandshakeCrypto.SESSION_ID_BYTES));
  }

  static SessionId of(byte[] id) {
    if (id.length != HandshakeCrypto.SESSION_ID_BYTES) {
      throw new IllegalArgumentException("a session id has " + HandshakeCrypto.SESSION_ID_BYTES + " bytes, not "
          + id.length);
    }
    ByteBuffer bytes = ByteBuffer.wrap(id);
    return new SessionId(bytes.getLong(), bytes.getLong());
  }

  /**
   * The id whose {@code tether-session-id} text is {@code text}, or null when {@code text} is not
   * the one text of a 16-byte id (base64url without padding): one text per id, as when the
   * sessions were found by their text.
   */
  static SessionId parse(String text) {
    if (text.length() != TEXT_LENGTH) {
      return null;
    }
    byte[] decoded;
    try {
      decoded = BASE64URL.decode(text);
    } catch (IllegalArgumentException e) {
      return null;
    }
    if (decoded.length != HandshakeCrypto.SESSION_ID_BYTES || !BASE64URL.encode(decoded).equals(text)) {
      return null;
    }
    return of(decoded);
  }

  byte[] bytes() {
    return ByteBuffer.allocate(HandshakeCrypto.SESSION_ID_BYTES).putLong(high).putLong(low).array();
  }

  /** As the delegate sends it in {@code tether-session-id}. */
  String text() {
    return BASE64URL.encode(bytes());
  }

  /** Its first characters only: an id is no secret (the session key is), and logs need no more. */
  @Override
  public String toString() {
    return "SessionId[" + text().substring(0, 6) + "…]";
  }
}
