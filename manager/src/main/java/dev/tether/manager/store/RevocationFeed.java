package dev.tether.manager.store;

/**
 * How a replica hears, as soon as they commit, of revocations made by the others and of their
 * confirmations (PostgreSQL LISTEN/NOTIFY). A replica alone on its database (H2) hears nothing:
 * {@link #NONE}. Reconciliation covers whatever a feed misses.
 */
public interface RevocationFeed extends AutoCloseable {

  /** The channel on which a commit that revokes or expires a token is announced; payload: its id. */
  String REVOKED_CHANNEL = "tether_revocations";

  /**
   * The channel on which a replica's confirmation is announced; payload: token id, replica, and the
   * streams that replica has closed for the token so far (a total, not an increment).
   */
  String ACKED_CHANNEL = "tether_revocation_acks";

  /** The channel on which a commit that revokes an admin is announced; payload: the admin's public id. */
  String ADMIN_REVOKED_CHANNEL = "tether_admin_revocations";

  /** What the feed delivers, on its own thread. */
  interface Listener {
    /** Another replica committed the revocation or expiry of {@code tokenRow}. */
    void revoked(long tokenRow);

    /** {@code replicaId} confirmed closing {@code streamsClosed} streams of {@code tokenRow} so far. */
    void acked(long tokenRow, String replicaId, int streamsClosed);

    /** Another replica committed the revocation of the admin with public id {@code adminId}. */
    default void adminRevoked(String adminId) { }

    /** The feed (re)connected: whatever was announced while it was down has been missed. */
    void resumed();
  }

  /** Starts delivering to {@code listener}. */
  void start(Listener listener);

  /** Stops, and returns once the feed's thread has ended. */
  @Override
  void close();

  /** The feed of a replica that has nobody to hear from. */
  RevocationFeed NONE = new RevocationFeed() {
    @Override
    public void start(Listener listener) { }

    @Override
    public void close() { }
  };
}
