package dev.tether.manager.store;

/**
 * Durable state of the manager: accounts and tokens, delegates, the audit trail, the replicas and
 * the admins,
 * over JDBC for H2 (default, one manager) and PostgreSQL (several replicas). Every write is
 * committed before the method returns.
 */
public interface TetherStore extends TokenStore, DelegateStore, AuditStore, ReplicaStore, AdminStore, AutoCloseable {

  /** Whether several replicas may share this database (PostgreSQL), rather than one (H2). */
  boolean shared();

  /** How this replica hears of other replicas' revocations and confirmations. */
  RevocationFeed revocationFeed(String replicaId);

  @Override
  void close();
}
