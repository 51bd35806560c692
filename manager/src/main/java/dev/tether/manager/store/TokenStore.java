package dev.tether.manager.store;

import java.time.Instant;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** Accounts and their tokens. Every write is committed, with its audit event, before it returns. */
public interface TokenStore {

  /** Creates the account and its first token in one transaction, with their audit events. */
  Account createAccount(Account account, NewToken defaultToken, Actor by);

  Optional<Account> findAccount(String accountId);

  List<Account> listAccounts();

  /** Inserts a token with its audit event; {@link DuplicateException} if the name or value is taken. */
  TokenRecord createToken(NewToken token, String auditDetail, Actor by);

  Optional<TokenRecord> findToken(String accountId, String name);

  Optional<TokenRecord> findTokenByPublicId(String accountId, String publicId);

  /** The token, in any account, whose value has this keyed fingerprint. */
  Optional<TokenRecord> findTokenByValueFingerprint(String valueFingerprint);

  List<TokenRecord> listTokens(String accountId);

  /** Active tokens with an expiry, soonest first. */
  List<TokenRecord> listExpiringTokens();

  /**
   * Marks an ACTIVE token REVOKED and writes the audit event, in one transaction, and tells the
   * other replicas when it commits. Returns the updated record, or empty when the token was not
   * ACTIVE (already revoked or expired, or gone).
   */
  Optional<TokenRecord> revokeToken(long tokenRow, Instant at, Actor by, String reason, String action);

  /**
   * Marks an ACTIVE token EXPIRED (audit {@code token.expire} by {@code system}), as
   * {@link #revokeToken} does. Every replica calls it at the expiry instant; one of them wins, the
   * others get empty.
   */
  Optional<TokenRecord> expireToken(long tokenRow, Instant at);

  /** Deletes a token that is no longer ACTIVE; returns false when it is not there or still active. */
  boolean deleteToken(TokenRecord token, Instant at, Actor by);

  void recordTokensUsed(Map<Long, Instant> lastUsed);

  /**
   * Those of {@code tokenIds} whose streams must not live: revoked, expired by status or by their
   * expiry time at {@code now}, or gone. The reconciliation's safety net.
   */
  List<Long> tokensToCut(Collection<Long> tokenIds, Instant now);

  /** When the token with row id {@code tokenRow} was revoked or expired; empty if it is active or gone. */
  Optional<Instant> tokenEndedAt(long tokenRow);

  /** Every token's id and sealed key, for re-sealing under a new scheme. */
  Map<Long, SealedKey> sealedKeys();

  /** Replaces sealed keys, in one transaction, where they still hold the old value; returns how many. */
  int replaceSealedKeys(List<Reseal> reseals);

  /** A token's sealed key with what it was sealed for. */
  record SealedKey(String accountId, String publicId, String sealed) {}

  /** One sealed key to replace. */
  record Reseal(long tokenRow, String old, String replacement) {}
}
