package dev.tether.manager.store;

/**
 * Who did something, as the audit trail records it: an admin's name (or {@code system} for what
 * the manager does by itself, such as expiry) and the remote address of the call, null when there
 * was none. An admin's actor also carries the admin's public id: every change an admin makes is
 * committed only while that admin is still active ({@link AdminRevokedException}).
 */
public record Actor(String name, String address, String adminId) {

  /** The manager itself: expiry, reconciliation, start-up. */
  public static final Actor SYSTEM = new Actor("system", null, null);

  public Actor(String name, String address) {
    this(name, address, null);
  }

  /** An actor with no remote address: in-process callers and tests. */
  public static Actor named(String name) {
    return new Actor(name, null, null);
  }

  /** The admin {@code name} ({@code adminId}) calling from {@code address}. */
  public static Actor admin(String name, String adminId, String address) {
    return new Actor(name, address, adminId);
  }

  @Override
  public String toString() {
    return address == null ? name : name + " from " + address;
  }
}
