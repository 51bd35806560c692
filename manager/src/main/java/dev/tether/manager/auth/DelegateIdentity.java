package dev.tether.manager.auth;

import static java.util.Objects.requireNonNull;

/**
 * Who a delegate call is from, as proven by the handshake: the account, the token (internal id,
 * public id and name) and the delegate's name. Holds no secret.
 */
public record DelegateIdentity(
    String accountId, long tokenRow, String tokenPublicId, String tokenName, String delegateName) {

  public DelegateIdentity {
    requireNonNull(accountId, "accountId");
    requireNonNull(tokenPublicId, "tokenPublicId");
    requireNonNull(tokenName, "tokenName");
    requireNonNull(delegateName, "delegateName");
  }
}
