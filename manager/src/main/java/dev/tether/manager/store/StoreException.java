package dev.tether.manager.store;

/** The database failed or is unreachable; callers fail closed. */
public class StoreException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public StoreException(String message, Throwable cause) {
    super(message, cause);
  }
}
