package dev.tether.manager.store;

import java.time.Instant;

/**
 * What is written for a token being created: its public id, sealed key and value fingerprint,
 * never its value. {@code valueFingerprint} (hex, keyed by the master key) is the same for one
 * value in every account, so the store refuses a value already in use; null leaves it unchecked.
 */
public record NewToken(
    String accountId, String name, String publicId, String sealedKey, Instant createdAt,
    String createdBy, Instant expiresAt, String valueFingerprint, String description) {

  /** A token written without a description. */
  public NewToken(String accountId, String name, String publicId, String sealedKey, Instant createdAt,
      String createdBy, Instant expiresAt, String valueFingerprint) {
    this(accountId, name, publicId, sealedKey, createdAt, createdBy, expiresAt, valueFingerprint, null);
  }

  /** A token written without a value fingerprint or description. */
  public NewToken(String accountId, String name, String publicId, String sealedKey, Instant createdAt,
      String createdBy, Instant expiresAt) {
    this(accountId, name, publicId, sealedKey, createdAt, createdBy, expiresAt, null, null);
  }

  @Override
  public String toString() {
    return "NewToken[" + accountId + "/" + name + " " + publicId + "]";
  }
}
