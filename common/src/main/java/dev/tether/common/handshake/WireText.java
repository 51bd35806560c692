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

  private WireText() {}
}
