package dev.tether.manager.store;

/** A unique constraint refused the write (an account or token name already in use). */
public final class DuplicateException extends StoreException {
  private static final long serialVersionUID = 1L;

  public DuplicateException(String message, Throwable cause) {
    super(message, cause);
  }
}
