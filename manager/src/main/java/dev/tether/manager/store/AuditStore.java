package dev.tether.manager.store;

import java.time.Instant;
import java.util.List;

/** The audit trail: who did what, when, to which account and token. */
public interface AuditStore {

  void audit(Instant at, Actor actor, String action, String accountId, String tokenPublicId, String detail);

  /** Newest first; {@code accountId} null for every account. */
  default List<AuditEvent> listAudit(String accountId, int limit) {
    return listAudit(accountId, null, limit);
  }

  /** Newest first; {@code accountId} null for every account, {@code actor} null for every actor. */
  List<AuditEvent> listAudit(String accountId, String actor, int limit);
}
