package dev.tether.manager.store;

/**
 * Who did something, as the audit trail records it: an admin's name (or {@code system} for what
 * the manager does by itself, such as expiry) and the remote address of the call, null when there
 * was none.
 */
public record Actor(String name, String address) {

  /** The manager itself: expiry, reconciliation, start-up. */
  public static final Actor SYSTEM = new Actor("system", null);

  /** An actor with no remote address: in-process callers and tests. */
  public static Actor named(String name) {
    return new Actor(name, null);
  }

  @Override
  public String toString() {
    return address == null ? name : name + " from " + address;
  }
}
