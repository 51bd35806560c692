package dev.tether.manager.store;

/** Revoking this admin would leave no active owner, and so nobody who can manage admins. */
public final class LastOwnerException extends IllegalStateException {

  private final String name;

  public LastOwnerException(String name) {
    super("admin '" + name + "' is the last active owner");
    this.name = name;
  }

  public String adminName() {
    return name;
  }
}
