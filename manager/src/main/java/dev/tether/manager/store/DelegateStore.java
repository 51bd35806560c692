package dev.tether.manager.store;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/** Delegates: who connected, with which token, on which replica, and when they were last heard of. */
public interface DelegateStore {

  /**
   * Creates or updates the delegate's record as connected now. The result completes with its id
   * once the record is committed, or fails with a {@link StoreException}; registrations arriving
   * together share a commit, and nothing holds a thread while it runs.
   */
  CompletableFuture<String> delegateConnected(DelegateRecord delegate);

  /**
   * At a stop, before any stream is closed: no registration is written any more, those waiting for
   * their commit fail with {@link StoreClosedException}, and this returns once the one being
   * committed has finished (or after 10 s, with a warning). A registration written after its
   * stream was closed could land over the record of the same delegate's newer connection to another
   * replica.
   */
  void refuseRegistrations();

  /**
   * Records the ends of connections in one transaction, each of the connection that began at its
   * {@code connectedSince}: a newer connection of the same delegate is left as it is.
   */
  void delegatesDisconnected(List<Disconnect> disconnects);

  /** The end, {@code at}, of the connection of {@code delegateId} that began at {@code connectedSince}. */
  record Disconnect(String delegateId, Instant connectedSince, Instant at, String reason) {}

  void recordHeartbeats(Map<String, Instant> lastHeartbeats);

  /** Delegates of one account, or of all accounts when {@code accountId} is null. */
  List<DelegateRecord> listDelegates(String accountId);

  java.util.Optional<DelegateRecord> findDelegate(String delegateId);

  /**
   * Deletes the record of a delegate that is not connected, with its audit event; false when it is
   * gone or connected now.
   */
  boolean deleteDelegate(DelegateRecord delegate, Instant at, Actor by);

  /**
   * The delegates of one account (null: every account) disconnected before {@code disconnectedBefore};
   * unless {@code dryRun}, deleted in one transaction with an audit event per account.
   */
  List<DelegateRecord> pruneDelegates(String accountId, Instant disconnectedBefore, boolean dryRun, Instant at,
      Actor by);

  /**
   * Marks disconnected the delegates held by replicas not seen since {@code cutoff} that have not
   * ended (a replica that ended shows its delegates disconnected already); returns how many.
   */
  int disconnectDelegatesOfLostReplicas(Instant cutoff, Instant at);
}
