package dev.tether.manager.store;

/**
 * A write refused because its store is closing (the manager is stopping), not because the database
 * failed: nothing to report as an error, and the caller closes what waited on it as the stop does.
 */
public final class StoreClosedException extends StoreException {
  private static final long serialVersionUID = 1L;

  public StoreClosedException() {
    super("store closed", null);
  }
}
