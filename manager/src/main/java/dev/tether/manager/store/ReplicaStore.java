package dev.tether.manager.store;

import java.time.Instant;
import java.util.List;
import java.util.Map;

/** The replicas sharing a database, and their confirmations of revocations. */
public interface ReplicaStore {

  /** Registers or refreshes a replica's liveness. */
  void replicaSeen(Replica replica);

  /** The replicas that have not ended, in the order they started. */
  List<Replica> listReplicas();

  /**
   * Records that {@code replicaId} ended at {@code at}: from then on the delegates whose records it
   * left connected read as disconnected at {@code at} with {@code reason}. One row, whatever the
   * number of delegates; an end already recorded is kept.
   */
  void replicaEnded(String replicaId, Instant at, String reason);

  /**
   * For a manager alone on its database, at its start: every earlier run that did not record its
   * end (it was killed, or its machine stopped) ended at {@code at} with {@code reason}; returns
   * how many.
   */
  int earlierRunsEnded(String keep, Instant at, String reason);

  /**
   * Adds to the streams {@code replicaId} closed for a revoked token (a replica may cut them in more
   * than one pass), and tells the revoking replica when it commits.
   */
  void recordRevocationAck(long tokenRow, String replicaId, int streamsClosed, Instant at);

  /** Streams closed per replica for a revoked token, as confirmed so far. */
  Map<String, Integer> revocationAcks(long tokenRow);

  /**
   * Forgets replicas other than {@code keep} not seen since {@code cutoff}, and the revocation
   * confirmations older than that; returns how many replicas it forgot. A replica that ended is kept
   * while a delegate's record it left connected refers to it (that record reads its end from it).
   */
  int forgetReplicas(Instant cutoff, String keep);
}
