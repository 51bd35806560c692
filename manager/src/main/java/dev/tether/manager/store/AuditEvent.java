package dev.tether.manager.store;

import java.time.Instant;

/**
 * One line of the audit trail. {@code tokenPublicId}, {@code accountId} and {@code remoteAddress}
 * (where the call came from) may be null.
 */
public record AuditEvent(
    long id, Instant at, String actor, String action, String accountId, String tokenPublicId,
    String detail, String remoteAddress) {}
