package dev.tether.manager.store;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Durable state of the manager: accounts, tokens, delegates and the audit trail. Every write is
 * committed before the method returns. Implemented over JDBC for H2 (default) and PostgreSQL.
 */
public interface TetherStore extends AutoCloseable {

  /** Creates the account and its first token in one transaction, with their audit events. */
  Account createAccount(Account account, NewToken defaultToken);

  Optional<Account> findAccount(String accountId);

  List<Account> listAccounts();

  /**
   * Inserts a token with its audit event; {@link DuplicateException} if the name is taken, or the
   * value fingerprint is already stored for any token of any account.
   */
  TokenRecord createToken(NewToken token, String auditDetail);

  Optional<TokenRecord> findToken(String accountId, String name);

  Optional<TokenRecord> findTokenByPublicId(String accountId, String publicId);

  /** The token, in any account, whose value has this fingerprint ({@link NewToken#valueFingerprint()}). */
  Optional<TokenRecord> findTokenByValueFingerprint(String valueFingerprint);

  List<TokenRecord> listTokens(String accountId);

  /** Active tokens with an expiry, soonest first. */
  List<TokenRecord> listExpiringTokens();

  /**
   * Marks an ACTIVE token REVOKED and writes the audit event, in one transaction. Returns the
   * updated record, or empty when the token was not ACTIVE (already revoked, or gone).
   */
  Optional<TokenRecord> revokeToken(long tokenId, Instant at, String by, String reason, String action);

  /** The channel on which a shared store announces revocations (PostgreSQL NOTIFY). */
  String REVOCATION_CHANNEL = "tether_revocations";

  /** Deletes a REVOKED token; returns false when it is not there or not revoked. */
  boolean deleteToken(TokenRecord token, Instant at, String by);

  void recordTokensUsed(Map<Long, Instant> lastUsed);

  /** Creates or updates the delegate's record as connected now; returns its id. */
  String delegateConnected(DelegateRecord delegate);

  /**
   * Records the end of the connection that began at {@code connectedSince}; a newer connection of
   * the same delegate is left as it is.
   */
  void delegateDisconnected(String delegateId, Instant connectedSince, Instant at, String reason);

  void recordHeartbeats(Map<String, Instant> lastHeartbeats);

  /** At start: delegates recorded as connected by an earlier run are not connected any more. */
  int disconnectAllDelegates(Instant at, String reason);

  /** Delegates of one account, or of all accounts when {@code accountId} is null. */
  List<DelegateRecord> listDelegates(String accountId);

  void audit(Instant at, String actor, String action, String accountId, String tokenPublicId, String detail);

  /** Newest first; {@code accountId} null for every account. */
  List<AuditEvent> listAudit(String accountId, int limit);

  /** At a replica's clean stop: its delegates are not connected any more. */
  void delegatesOfReplicaStopped(String replicaId, Instant at);

  /** Whether several replicas may share this database (PostgreSQL), rather than one (H2). */
  boolean shared();

  /** Registers or refreshes a replica's liveness. */
  void replicaSeen(Replica replica);

  List<Replica> listReplicas();

  /** Marks disconnected the delegates held by replicas not seen since {@code cutoff}; returns how many. */
  int disconnectDelegatesOfLostReplicas(Instant cutoff, Instant at);

  /** Records that {@code replicaId} closed streams of a revoked token; several records add up. */
  void recordRevocationAck(long tokenId, String replicaId, int streamsClosed, Instant at);

  /** Streams closed per replica for a revoked token, as confirmed so far. */
  Map<String, Integer> revocationAcks(long tokenId);

  /** Those of {@code tokenIds} that are revoked (or gone): the reconciliation's safety net. */
  List<Long> revokedAmong(java.util.Collection<Long> tokenIds);

  @Override
  void close();
}
