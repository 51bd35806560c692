package dev.tether.manager.auth;

import static java.util.Objects.requireNonNull;

import java.time.Instant;

/**
 * Who a delegate call is from, as proven by the handshake: the account, the token (internal id,
 * public id, name and expiry time, null when it has none) and the delegate's name. Holds no secret.
 */
public record DelegateIdentity(String accountId, long tokenRow, String tokenPublicId, String tokenName,
    String delegateName, Instant tokenExpiresAt) {

  /** A token without an expiry time. */
  public DelegateIdentity(String accountId, long tokenRow, String tokenPublicId, String tokenName,
      String delegateName) {
    this(accountId, tokenRow, tokenPublicId, tokenName, delegateName, null);
  }

  public DelegateIdentity {
    requireNonNull(accountId, "accountId");
    requireNonNull(tokenPublicId, "tokenPublicId");
    requireNonNull(tokenName, "tokenName");
    requireNonNull(delegateName, "delegateName");
  }
}
