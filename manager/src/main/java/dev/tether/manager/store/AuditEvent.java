package dev.tether.manager.store;

import java.time.Instant;

/** One line of the audit trail. {@code tokenPublicId} and {@code accountId} may be null. */
public record AuditEvent(
    long id, Instant at, String actor, String action, String accountId, String tokenPublicId,
    String detail) {}
