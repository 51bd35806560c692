package dev.tether.manager.store;

import java.time.Instant;

/** A stored admin: never its credential, which the store holds only as a keyed digest. */
public record AdminRecord(
    long id, String name, String publicId, AdminRole role, Instant createdAt, String createdBy,
    Instant revokedAt, String revokedBy) {

  public boolean active() {
    return revokedAt == null;
  }
}
