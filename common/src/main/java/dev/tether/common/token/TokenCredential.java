package dev.tether.common.token;

import java.util.Objects;

/**
 * What a delegate token proves with in one account: its public id and its key {@code K}
 * ({@code docs/protocol.md} sections 3.3 and 3.4). Prints only the public id.
 */
public final class TokenCredential {

  private final String publicId;
  private final byte[] key;

  TokenCredential(String publicId, byte[] key) {
    this.publicId = Objects.requireNonNull(publicId, "publicId");
    this.key = key.clone();
  }

  /** The public id in this account: safe for logs, lists and metrics. */
  public String publicId() {
    return publicId;
  }

  /** A copy of the token key K, the HMAC key of both handshake proofs. */
  public byte[] key() {
    return key.clone();
  }

  @Override
  public String toString() {
    return "TokenCredential[" + publicId + "]";
  }
}
