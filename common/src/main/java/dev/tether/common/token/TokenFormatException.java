package dev.tether.common.token;

/** A token value that cannot be a delegate token; the message names the source, never the value. */
public final class TokenFormatException extends IllegalArgumentException {
  private static final long serialVersionUID = 1L;

  public TokenFormatException(String message) {
    super(message);
  }
}
