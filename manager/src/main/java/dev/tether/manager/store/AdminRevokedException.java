package dev.tether.manager.store;

/**
 * The admin acting was revoked while its call was in flight: what the call was about to commit is
 * rolled back, so that nothing an admin does lands after its revocation.
 */
public final class AdminRevokedException extends IllegalStateException {

  public AdminRevokedException(String name) {
    super("admin '" + name + "' was revoked while this call was in flight; nothing was changed");
  }
}
