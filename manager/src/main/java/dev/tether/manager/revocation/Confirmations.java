package dev.tether.manager.revocation;

import java.util.Map;

/**
 * The other replicas' confirmations that they cut a revoked token's streams. A revoke asks for
 * them before it commits (so that none can arrive unseen), and waits for them after its own cut.
 */
public interface Confirmations {

  /** Confirmations being awaited for one token. */
  interface Pending {
    /**
     * Waits, up to the confirmation timeout, for every live replica; returns streams closed per
     * replica ({@code closedHere} for this one), -1 where a replica did not confirm in time.
     */
    Map<String, Integer> await(int closedHere);

    /** The revoke did not commit: stop waiting. */
    void cancel();
  }

  Pending expect(long tokenRow);

  /** A manager alone on its database: nobody else to hear from. */
  static Confirmations alone(String replicaId) {
    return tokenRow -> new Pending() {
      @Override
      public Map<String, Integer> await(int closedHere) {
        return Map.of(replicaId, closedHere);
      }

      @Override
      public void cancel() { }
    };
  }
}
