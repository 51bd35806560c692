package dev.tether.manager.store;

import java.time.Instant;
import java.util.List;
import java.util.Map;

/** The replicas sharing a database, and their confirmations of revocations. */
public interface ReplicaStore {

  /** Registers or refreshes a replica's liveness. */
  void replicaSeen(Replica replica);

  List<Replica> listReplicas();

  /**
   * Adds to the streams {@code replicaId} closed for a revoked token (a replica may cut them in more
   * than one pass), and tells the revoking replica when it commits.
   */
  void recordRevocationAck(long tokenRow, String replicaId, int streamsClosed, Instant at);

  /** Streams closed per replica for a revoked token, as confirmed so far. */
  Map<String, Integer> revocationAcks(long tokenRow);

  /**
   * Forgets replicas other than {@code keep} not seen since {@code cutoff}, and the revocation
   * confirmations older than that; returns how many replicas it forgot.
   */
  int forgetReplicas(Instant cutoff, String keep);
}
