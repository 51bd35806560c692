package dev.tether.delegate.connect;

import io.grpc.Status;

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
  private final transient Status status;
  private final boolean wrongProof;

  public HandshakeException(Kind kind, String message) {
    this(kind, message, (Throwable) null);
  }

  public HandshakeException(Kind kind, String message, Throwable cause) {
    super(message, cause);
    this.kind = kind;
    this.status = null;
    this.wrongProof = false;
  }

  /** Failed with {@code status}, the gRPC status that ended the handshake call. */
  public HandshakeException(Kind kind, String message, Status status) {
    super(message, status.getCause());
    this.kind = kind;
    this.status = status;
    this.wrongProof = false;
  }

  private HandshakeException(String message) {
    super(message);
    this.kind = Kind.MANAGER_NOT_TRUSTED;
    this.status = null;
    this.wrongProof = true;
  }

  /** The manager's proof did not match: {@link Kind#MANAGER_NOT_TRUSTED}, and {@link #wrongProof()}. */
  static HandshakeException wrongProof(String message) {
    return new HandshakeException(message);
  }

  /**
   * Whether the manager answered with a proof that did not match, as opposed to breaking the
   * protocol: what a wrong account id or token looks like from the delegate's side.
   */
  public boolean wrongProof() {
    return wrongProof;
  }

  /** The status that ended the handshake call, or null if the delegate itself ended it. */
  public Status status() {
    return status;
  }

  public Kind kind() {
    return kind;
  }
}
