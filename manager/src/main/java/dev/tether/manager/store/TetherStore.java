package dev.tether.manager.store;

/**
 * Durable state of the manager: accounts and tokens, delegates, the audit trail, the replicas and
 * the admins,
 * over JDBC for H2 (default, one manager) and PostgreSQL (several replicas). Every write is
 * committed before the method returns.
 */
public interface TetherStore extends TokenStore, DelegateStore, AuditStore, ReplicaStore, AdminStore, RotationStore,
    AutoCloseable {

  /** Whether several replicas may share this database (PostgreSQL), rather than one (H2). */
  boolean shared();

  /** How this replica hears of other replicas' revocations and confirmations. */
  RevocationFeed revocationFeed(String replicaId);

  /** Answers if the database does; throws {@link StoreException} otherwise. For readiness checks. */
  void ping();

  /**
   * Makes every commit so far durable, whoever made it. A transaction of this store is forced to the
   * disk before it returns, but another thread can read what it committed a moment earlier; call this
   * before answering from such a read that a change is done ("already revoked"). A no-op where a
   * commit is durable once visible (PostgreSQL).
   */
  void forceToDisk();

  /** Reports write transactions and failures to {@code metrics} from now on. */
  void measure(dev.tether.manager.metrics.ManagerMetrics metrics);

  @Override
  void close();
}
