package dev.tether.manager.store;

/**
 * What an admin may do, each role including the ones before it: a viewer lists and reads; an
 * operator also creates, revokes and deletes accounts, tokens and delegates and writes install
 * files; an owner also manages admins.
 */
public enum AdminRole {
  VIEWER,
  OPERATOR,
  OWNER;

  /** Whether this role includes everything {@code needed} may do. */
  public boolean includes(AdminRole needed) {
    return compareTo(needed) >= 0;
  }

  /** The lowercase name operators type, such as {@code operator}. */
  public String label() {
    return name().toLowerCase(java.util.Locale.ROOT);
  }
}
