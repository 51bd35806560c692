package dev.tether.delegate.connect;

/** The handshake did not produce a session; {@link Kind} says what the delegate should do. */
public final class HandshakeException extends Exception {
  private static final long serialVersionUID = 1L;

  /** Why the handshake failed. */
  public enum Kind {
    /** The manager refused the token (unknown, revoked, expired or wrong): stop using it. */
    TOKEN_REJECTED,
    /**
     * The manager could not prove it knows the token: a man in the middle, the wrong manager, or a
     * manager that does not know this token. Nothing it sent is trusted.
     */
    MANAGER_NOT_TRUSTED,
    /** Network trouble, a timeout or a manager that is unavailable: retry later. */
    TRANSIENT,
    /** The manager refused the request itself (protocol version, malformed fields). */
    PROTOCOL
  }

  private final Kind kind;

  public HandshakeException(Kind kind, String message) {
    super(message);
    this.kind = kind;
  }

  public HandshakeException(Kind kind, String message, Throwable cause) {
    super(message, cause);
    this.kind = kind;
  }

  public Kind kind() {
    return kind;
  }
}
