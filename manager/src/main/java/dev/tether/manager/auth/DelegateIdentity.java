package dev.tether.manager.auth;

import static java.util.Objects.requireNonNull;

import com.google.common.collect.Interner;
import com.google.common.collect.Interners;
import dev.tether.common.text.UserText;
import java.time.Instant;

/**
 * Who a delegate call is from, as proven by the handshake: the account, the token (internal id,
 * public id, name and expiry time, null when it has none) and the delegate's name. Holds no secret.
 *
 * <p>Every connected delegate's stream keeps its identity for as long as it is connected: the
 * token's part is therefore kept once per token and values ({@link Token}, interned), and an
 * identity is that and the delegate's name (24 bytes a stream, against 40 for all six fields, and
 * no copy of the token's texts however its row was read; docs/benchmarks.md).
 */
public final class DelegateIdentity {

  /** The token's part of an identity, shared by every stream of one token with the same values. */
  record Token(String accountId, long row, String publicId, String name, Instant expiresAt) {
    Token {
      requireNonNull(accountId, "accountId");
      requireNonNull(publicId, "tokenPublicId");
      requireNonNull(name, "tokenName");
    }
  }

  /**
   * Held weakly: a token's part is dropped once no stream or session keeps it. A token renamed, or
   * given another expiry, is another value, so no stream ever sees another's values.
   */
  private static final Interner<Token> TOKENS = Interners.newWeakInterner();

  private final Token token;
  private final String delegateName;

  public DelegateIdentity(String accountId, long tokenRow, String tokenPublicId, String tokenName,
      String delegateName, Instant tokenExpiresAt) {
    this.token = TOKENS.intern(new Token(accountId, tokenRow, tokenPublicId, tokenName, tokenExpiresAt));
    this.delegateName = requireNonNull(delegateName, "delegateName");
  }

  /** A token without an expiry time. */
  public DelegateIdentity(String accountId, long tokenRow, String tokenPublicId, String tokenName,
      String delegateName) {
    this(accountId, tokenRow, tokenPublicId, tokenName, delegateName, null);
  }

  public String accountId() {
    return token.accountId();
  }

  public long tokenRow() {
    return token.row();
  }

  public String tokenPublicId() {
    return token.publicId();
  }

  public String tokenName() {
    return token.name();
  }

  public String delegateName() {
    return delegateName;
  }

  /** The token's expiry time; null when it has none. */
  public Instant tokenExpiresAt() {
    return token.expiresAt();
  }

  @Override
  public String toString() {
    return "DelegateIdentity[account " + token.accountId() + ", token " + token.publicId() + ", delegate "
        + UserText.quote(delegateName) + "]";
  }
}
