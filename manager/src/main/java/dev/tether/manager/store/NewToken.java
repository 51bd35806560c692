package dev.tether.manager.store;

import java.time.Instant;

/** What is written for a token being created: its public id and sealed key, never its value. */
public record NewToken(
    String accountId, String name, String publicId, String sealedKey, Instant createdAt,
    String createdBy, Instant expiresAt) {

  @Override
  public String toString() {
    return "NewToken[" + accountId + "/" + name + " " + publicId + "]";
  }
}
