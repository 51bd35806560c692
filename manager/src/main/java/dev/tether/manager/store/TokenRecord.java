package dev.tether.manager.store;

import java.time.Instant;

/**
 * A stored token. {@code sealedKey} is the token key sealed under the master key; it is not the
 * token value and is useless without the master key file. Timestamps and the description may be null where unset.
 */
public record TokenRecord(
    long id,
    String accountId,
    String name,
    String publicId,
    String sealedKey,
    TokenStatus status,
    Instant createdAt,
    String createdBy,
    Instant expiresAt,
    Instant revokedAt,
    String revokedBy,
    String revokeReason,
    Instant lastUsedAt,
    String description) {

  public boolean active() {
    return status == TokenStatus.ACTIVE;
  }

  @Override
  public String toString() {
    return "TokenRecord[" + accountId + "/" + name + " " + publicId + " " + status + "]";
  }
}
