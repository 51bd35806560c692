package dev.tether.delegate.rotation;

/**
 * A successor token that could not be stored where the delegate's token comes from; the message is
 * the reason, naming the place and the cause, and never holds a token value.
 */
public final class CannotKeepException extends Exception {
  private static final long serialVersionUID = 1L;

  public CannotKeepException(String reason) {
    super(reason);
  }
}
