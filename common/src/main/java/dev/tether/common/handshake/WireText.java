package dev.tether.common.handshake;

/**
 * Status descriptions both sides rely on (docs/protocol.md 4.5, 5.2 and 6.2): the manager sends
 * them, the delegate acts on them, so they are written once.
 */
public final class WireText {

  /** UNAUTHENTICATED on a stream: the token is revoked or expired; stop using it. */
  public static final String TOKEN_REVOKED = "delegate token revoked";

  /** UNAUTHENTICATED on a handshake or call: refused, for a reason the manager logs and does not say. */
  public static final String AUTHENTICATION_FAILED = "delegate authentication failed";

  /**
   * Trailer of a stream the manager closed with {@link #TOKEN_REVOKED}: whether the token was
   * {@link #TOKEN_STATE_REVOKED revoked} or {@link #TOKEN_STATE_EXPIRED expired}, so that the
   * delegate's exit line says which. Sent only on an authenticated stream, to the token's holder; an
   * older manager sends none.
   */
  public static final String TOKEN_STATE_TRAILER = "tether-token-state";

  /** {@link #TOKEN_STATE_TRAILER} value: an administrator revoked the token. */
  public static final String TOKEN_STATE_REVOKED = "revoked";

  /** {@link #TOKEN_STATE_TRAILER} value: the token reached its expiry time. */
  public static final String TOKEN_STATE_EXPIRED = "expired";

  private WireText() {}
}
