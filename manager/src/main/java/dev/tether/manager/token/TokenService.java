package dev.tether.manager.token;

import static net.logstash.logback.marker.Markers.append;

import com.google.common.io.BaseEncoding;
import dev.tether.common.handshake.HandshakeCrypto;
import dev.tether.common.text.UserText;
import dev.tether.common.token.DelegateToken;
import dev.tether.common.token.TokenCredential;
import dev.tether.common.token.TokenFormatException;
import dev.tether.manager.logging.Millis;
import dev.tether.manager.metrics.ManagerMetrics;
import dev.tether.manager.metrics.ManagerMetrics.RevocationCause;
import dev.tether.manager.metrics.ManagerMetrics.RevocationPhase;
import dev.tether.manager.revocation.Confirmations;
import dev.tether.manager.revocation.RevocationRegistry;
import dev.tether.manager.revocation.TokenCutter;
import dev.tether.manager.store.Account;
import dev.tether.manager.store.Actor;
import dev.tether.manager.store.DuplicateException;
import dev.tether.manager.store.NewToken;
import dev.tether.manager.store.StoreException;
import dev.tether.manager.store.TetherStore;
import dev.tether.manager.store.TokenStore;
import dev.tether.manager.store.TokenRecord;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Accounts and their tokens: create (value returned once), list, revoke (commit, then cut every
 * live stream before returning), delete. Errors are gRPC statuses whose descriptions name the bad
 * value and what was expected.
 */
public final class TokenService {

  public static final String DEFAULT_TOKEN = "default";
  private static final Logger log = LoggerFactory.getLogger(TokenService.class);
  private static final BaseEncoding ACCOUNT_ID = BaseEncoding.base32().lowerCase().omitPadding();
  private static final BaseEncoding HEX = BaseEncoding.base16().lowerCase();
  /** Names an imported value in error messages (never the value itself). */
  private static final String IMPORTED = "imported token value";
  /** Purpose of the master subkey that keys value fingerprints. */
  static final String FINGERPRINT_PURPOSE = "token value fingerprint";

  private final TetherStore store;
  private final MasterKey masterKey;
  private final RevocationRegistry registry;
  private final TokenCutter cutter;
  private final Confirmations confirmations;
  private final Clock clock;
  private final ManagerMetrics metrics;
  /** Tokens whose revoke failed with its outcome unknown, by row: fenced here until {@link #settleInDoubt}. */
  private final Map<Long, InDoubt> inDoubt = new ConcurrentHashMap<>();

  public TokenService(TetherStore store, MasterKey masterKey, RevocationRegistry registry, TokenCutter cutter,
      Confirmations confirmations, Clock clock, ManagerMetrics metrics) {
    this.metrics = metrics;
    this.store = store;
    this.masterKey = masterKey;
    this.registry = registry;
    this.cutter = cutter;
    this.confirmations = confirmations;
    this.clock = clock;
  }

  /** Creates an account and its {@code default} token, for an in-process caller named {@code actor}. */
  public CreatedAccount createAccount(String name, String actor) {
    return createAccount(name, Actor.named(actor));
  }

  /** Creates an account and its {@code default} token. */
  public CreatedAccount createAccount(String name, Actor actor) {
    Names.accountName(name);
    String id = ACCOUNT_ID.encode(HandshakeCrypto.randomBytes(10));
    Instant now = clock.instant();
    DelegateToken value = DelegateToken.generate();
    NewToken token = newToken(id, DEFAULT_TOKEN, value, now, actor.name(), null, null);
    try {
      Account account = store.createAccount(new Account(id, name, now, actor.name()), token, actor);
      log.info(append("account", id).and(append("token_id", token.publicId())), "account created: {} {} with token {} {} by {}", id, UserText.quote(name), token.publicId(),
          UserText.quote(DEFAULT_TOKEN), actor);
      TokenRecord record = store.findToken(id, DEFAULT_TOKEN).orElseThrow();
      return new CreatedAccount(account, new CreatedToken(record, value));
    } catch (DuplicateException e) {
      throw Status.ALREADY_EXISTS.withDescription("account name " + UserText.quote(name)
          + " is already in use (choose another name, or see 'account list')").asRuntimeException();
    } catch (StoreException e) {
      throw unavailable(e);
    }
  }

  public List<Account> listAccounts() {
    return guard(store::listAccounts);
  }

  public Account account(String accountId) {
    if (accountId == null || accountId.isEmpty()) {
      throw Status.INVALID_ARGUMENT.withDescription("account id is empty (see 'account list')")
          .asRuntimeException();
    }
    return guard(() -> store.findAccount(accountId)).orElseThrow(() -> Status.NOT_FOUND
        .withDescription("account " + UserText.quote(accountId) + " not found (see 'account list')")
        .asRuntimeException());
  }

  /**
   * Creates a token named {@code name}; with {@code importValue} the caller's own value is used,
   * otherwise a random one. An imported value is refused when zxcvbn estimates it below
   * {@link TokenStrength#MIN_BITS} bits, or when any token of any account already uses it.
   */
  public CreatedToken createToken(String accountId, String name, String actor, Duration expiresIn,
      String importValue) {
    return createToken(accountId, name, Actor.named(actor), expiresIn, importValue, null);
  }

  /**
   * Creates a token as {@link #createToken(String, String, String, Duration, String)} does, with an
   * optional description (null or empty: none).
   */
  public CreatedToken createToken(String accountId, String name, Actor actor, Duration expiresIn,
      String importValue, String description) {
    Account account = account(accountId);
    Names.tokenName(name);
    String describedAs = Names.description(description);
    if (expiresIn != null && (expiresIn.isNegative() || expiresIn.isZero())) {
      throw Status.INVALID_ARGUMENT.withDescription("expiry " + expiresIn
          + " is not positive (expected a duration such as 24h or 30d)").asRuntimeException();
    }
    boolean imported = importValue != null;
    if (imported && importValue.isBlank()) {
      throw Status.INVALID_ARGUMENT.withDescription("the token value to import is empty; nothing was created"
          + " (give 32 to 512 printable characters, for example from 'openssl rand -hex 32', or create the"
          + " token without an import to have one generated)").asRuntimeException();
    }
    DelegateToken value;
    try {
      value = imported ? DelegateToken.parse(IMPORTED, importValue) : DelegateToken.generate();
      if (imported && value.isGenerated()) {
        // a tdt_ value has the fast derivation, safe only for 256 random bits; an imported one may be
        // a password hashed into that shape, which zxcvbn cannot see (found by the attacker's review)
        throw new TokenFormatException(IMPORTED + " has the form of a generated token ('tdt_...'), which cannot"
            + " be imported: its id and key are derived fast, which is safe only for a value this manager"
            + " generated itself. Use 'token create' to generate one, or import a value of another form");
      }
      if (imported) {
        TokenStrength.check(IMPORTED, value, List.of(account.id(), account.name(), name));
      }
    } catch (TokenFormatException e) {
      throw Status.INVALID_ARGUMENT.withDescription(e.getMessage()).asRuntimeException();
    }
    Instant now = clock.instant();
    NewToken token = newToken(accountId, name, value, now, actor.name(),
        expiresIn == null ? null : now.plus(expiresIn), describedAs);
    try {
      TokenRecord record = store.createToken(token, "name=" + name + (imported ? " imported" : "")
          + (expiresIn == null ? "" : " expires_at=" + token.expiresAt()), actor);
      log.info(append("account", accountId).and(append("token_id", token.publicId())),
          "token created: {} {} {} by {}", accountId, UserText.quote(name), token.publicId(), actor);
      return new CreatedToken(record, value);
    } catch (DuplicateException e) {
      Optional<TokenRecord> sameValue = guard(() -> store.findTokenByValueFingerprint(token.valueFingerprint()))
          .or(() -> guard(() -> store.findTokenByPublicId(accountId, token.publicId())));
      TokenRecord other = sameValue.orElse(null);
      if (other != null && !(other.accountId().equals(accountId) && other.name().equals(name))) {
        throw Status.ALREADY_EXISTS.withDescription("this token value is already used by token "
            + UserText.quote(other.name()) + " of account " + UserText.quote(other.accountId())
            + (other.active() ? "" : " (revoked; 'token delete' removes it)")
            + ": one value serves one token only (use 'token create', or import another value)")
            .asRuntimeException();
      }
      throw Status.ALREADY_EXISTS.withDescription("token name " + UserText.quote(name)
          + " already exists in account " + UserText.quote(accountId)
          + " (choose another name; a revoked token's name is freed by 'token delete')").asRuntimeException();
    } catch (StoreException e) {
      throw unavailable(e);
    }
  }

  public List<TokenRecord> listTokens(String accountId) {
    account(accountId);
    return guard(() -> store.listTokens(accountId));
  }

  /** The tokens of an account with this status; every token when {@code status} is null. */
  public List<TokenRecord> listTokens(String accountId, dev.tether.manager.store.TokenStatus status) {
    return listTokens(accountId).stream().filter(t -> status == null || t.status() == status).toList();
  }

  public TokenRecord token(String accountId, String name) {
    account(accountId);
    if (name == null || name.isEmpty()) {
      throw Status.INVALID_ARGUMENT.withDescription("token name is empty (see 'token list')").asRuntimeException();
    }
    return guard(() -> store.findToken(accountId, name)).orElseThrow(() -> Status.NOT_FOUND
        .withDescription("token " + UserText.quote(name) + " not found in account " + UserText.quote(accountId)
            + " (see 'token list --account " + accountId + "')")
        .asRuntimeException());
  }

  /**
   * Revokes: raises the in-memory fence (no heartbeat of the token is accepted from here on),
   * commits REVOKED to the store, then closes every live stream of the token with UNAUTHENTICATED
   * "delegate token revoked", waits for the other replicas to confirm theirs, and only then returns.
   */
  public RevokeResult revoke(String accountId, String name, String actor) {
    return revoke(accountId, name, Actor.named(actor));
  }

  /** Revokes as {@link #revoke(String, String, String)} does, for {@code actor}. */
  public RevokeResult revoke(String accountId, String name, Actor actor) {
    return revoke(accountId, name, actor, "revoked by " + actor.name());
  }

  /**
   * Revokes as {@link #revoke(String, String, String)} does, for {@code actor}, recording {@code reason}
   * as the token's revoke reason and in its audit event (a rotation names itself there).
   */
  public RevokeResult revoke(String accountId, String name, Actor actor, String reason) {
    return revoke(accountId, name, null, actor, reason);
  }

  /**
   * Revokes as {@link #revoke(String, String, Actor, String)} does, but only while {@code name}
   * still holds the token {@code expectedPublicId} (when not null): NOT_FOUND once it holds another
   * (deleted and made again), read once with the token the revoke then ends by its row.
   */
  public RevokeResult revoke(String accountId, String name, String expectedPublicId, Actor actor, String reason) {
    TokenRecord token = token(accountId, name);
    if (expectedPublicId != null && !token.publicId().equals(expectedPublicId)) {
      throw Status.NOT_FOUND.withDescription("token " + UserText.quote(name) + " of account " + UserText.quote(accountId)
          + " is " + token.publicId() + " now, no longer " + expectedPublicId).asRuntimeException();
    }
    if (!token.active()) {
      // read maybe before the revoke that ended it was on the disk: "already revoked" promises it is
      guard(() -> {
        store.forceToDisk();
        return null;
      });
      throw Status.FAILED_PRECONDITION.withDescription("token " + UserText.quote(name) + " of account "
          + UserText.quote(accountId) + " is already " + token.status().name().toLowerCase(java.util.Locale.ROOT)
          + " (at " + token.revokedAt() + " by " + token.revokedBy() + ")").asRuntimeException();
    }
    long t0 = System.nanoTime();
    // the fence goes up; reconciliation leaves the token to this revoke until it has cut it here
    long raising = cutter.revoking(token.id());
    long fenced = System.nanoTime();
    Confirmations.Pending pending;
    TokenRecord revoked;
    long committed;
    int closed;
    try {
      pending = confirmations.expect(token.id());
      try {
        revoked = store.revokeToken(token.id(), clock.instant(), actor, reason, "token.revoke")
            .orElseGet(() -> store.findToken(token.accountId(), token.name()).orElse(token));
      } catch (RuntimeException e) {
        pending.cancel();
        settleFenceAfterFailure(token, raising, e);
        throw e instanceof StoreException failure ? unavailable(failure) : e;
      }
      committed = System.nanoTime();
      // a revoke of it whose outcome was unknown is settled by this one
      if (inDoubt.remove(token.id()) != null) {
        metrics.revocationsInDoubt(inDoubt.size());
      }
      closed = cutter.cut(token.id());
    } finally {
      cutter.doneRevoking(token.id());
    }
    long done = System.nanoTime();
    metrics.revocation(RevocationCause.REVOKE);
    metrics.revocationPhase(RevocationPhase.FENCE, fenced - t0);
    metrics.revocationPhase(RevocationPhase.COMMIT, committed - fenced);
    metrics.revocationPhase(RevocationPhase.CLOSE, done - committed);
    log.info(append("account", token.accountId()).and(append("token_id", token.publicId())),
        "token revoked: {} {} {} by {}; {} live streams closed in {} ms (fence {} ms, commit {} ms,"
        + " close {} ms)", token.accountId(), UserText.quote(token.name()), token.publicId(), actor, closed,
        ms(done - t0), ms(fenced - t0), ms(committed - fenced), ms(done - committed));
    RevokeResult result = new RevokeResult(revoked, closed, pending.await(closed));
    metrics.revocationPhase(RevocationPhase.TOTAL, System.nanoTime() - t0);
    return result;
  }

  /**
   * Ends a token at its expiry instant, on every replica: the fence goes up, EXPIRED is committed
   * (one replica wins; the others find the token ended already), and the token's streams here are
   * cut in any case, since the token is expired by time whatever the database says. A commit that
   * fails is left to the next attempt; the streams are cut regardless. Returns the streams closed.
   */
  public int expire(TokenRecord token) {
    cutter.expiring(token.id());
    boolean committedHere = false;
    StoreException failure = null;
    try {
      committedHere = store.expireToken(token.id(), clock.instant()).isPresent();
    } catch (StoreException e) {
      failure = e;
    }
    int closed = cutter.cut(token.id());
    metrics.revocation(RevocationCause.EXPIRY);
    if (committedHere) {
      log.info(append("account", token.accountId()).and(append("token_id", token.publicId())),
          "token expired: {} {} {}; {} live streams closed", token.accountId(), UserText.quote(token.name()),
          token.publicId(), closed);
    } else if (closed > 0) {
      log.info(append("account", token.accountId()).and(append("token_id", token.publicId())),
          "token {} expired; {} live streams closed here", token.publicId(), closed);
    }
    if (failure != null) {
      throw failure;
    }
    return closed;
  }

  /**
   * The commit failed or its outcome is unknown: the store decides. A token it still reads active
   * gets its fence lowered (nothing happened); one it reads ended is cut. If the store cannot be
   * read either, the token stays fenced here (fail closed: no heartbeat of it acknowledged, its
   * handshakes answered UNAVAILABLE) until {@link #settleInDoubt} finds the store answering again;
   * so does one whose fence another revoke or an expiry has raised meanwhile.
   */
  private void settleFenceAfterFailure(TokenRecord token, long raising, RuntimeException failure) {
    if (failure instanceof StoreException e && e.isConnectivity()) {
      // the connection was lost: the commit may still be landing on the database, where a read on
      // another connection could see the token active just before it does
      putInDoubt(token);
      log.warn(append("account", token.accountId()).and(append("token_id", token.publicId())),
          "revocation of token {} failed with the connection to the store ({}), so whether it committed is not"
          + " known yet: the token stays fenced on this manager until the store answers", token.publicId(),
          e.getMessage());
      return;
    }
    Optional<TokenRecord> now;
    try {
      now = store.findTokenByPublicId(token.accountId(), token.publicId());
    } catch (RuntimeException e) {
      putInDoubt(token);
      log.error(append("account", token.accountId()).and(append("token_id", token.publicId())),
          "revocation of token {} failed and the store is unreachable, so whether it committed is unknown: the"
          + " token stays fenced on this manager (no heartbeat of it acknowledged, its handshakes answered"
          + " UNAVAILABLE) until the store answers again", token.publicId());
      return;
    }
    settle(token, now, raising, true);
  }

  /**
   * Settles every token left fenced by a revoke that did not commit or whose outcome is unknown
   * ({@link #settleFenceAfterFailure}), once the store answers: one it reads active gets its fence
   * lowered, and its delegates carry on; one it reads revoked, expired or gone is cut. A token being
   * revoked here is left to that revoke. Returns how many were settled; run on the reconciliation
   * interval, and a no-op (no store access) while there are none.
   */
  public int settleInDoubt() {
    int settled = 0;
    for (Map.Entry<Long, InDoubt> entry : List.copyOf(inDoubt.entrySet())) {
      InDoubt doubt = entry.getValue();
      TokenRecord token = doubt.token();
      // read before the store is, in one step with whether a revoke runs here: a revoke or an
      // expiry that raises the fence after it wins, and a token being revoked is left to that revoke
      long raising = cutter.raisingsUnlessRevoking(token.id());
      if (raising < 0) {
        continue;
      }
      Optional<TokenRecord> now;
      try {
        now = store.findTokenByPublicId(token.accountId(), token.publicId());
      } catch (StoreException e) {
        continue;
      } catch (RuntimeException e) {
        log.warn("could not read token {} to settle its revocation's outcome; asked again at the next pass",
            token.publicId(), e);
        continue;
      }
      // a revoke that failed meanwhile put an entry of its own: that one is settled next time
      if (!inDoubt.remove(entry.getKey(), doubt)) {
        continue;
      }
      metrics.revocationsInDoubt(inDoubt.size());
      settle(token, now, raising, false);
      settled++;
    }
    return settled;
  }

  /** Tokens fenced here because a revoke of theirs failed with its outcome unknown. */
  public int inDoubtCount() {
    return inDoubt.size();
  }

  private void putInDoubt(TokenRecord token) {
    inDoubt.put(token.id(), new InDoubt(token));
    metrics.revocationsInDoubt(inDoubt.size());
  }

  /**
   * Lowers the fence of a token the store read active ({@code now}) unless the fence was raised
   * again after {@code raising} or the token was cut meanwhile; cuts one the store read ended. A
   * fence that is neither lowered nor cut is left for {@link #settleInDoubt} to ask again.
   */
  private void settle(TokenRecord token, Optional<TokenRecord> now, long raising, boolean byItsRevoke) {
    boolean active = now.isPresent() && now.get().id() == token.id() && now.get().active()
        && (now.get().expiresAt() == null || clock.instant().isBefore(now.get().expiresAt()));
    if (active) {
      if (cutter.lift(token.id(), raising, now.get().expiresAt(), clock, byItsRevoke)) {
        if (!byItsRevoke) {
          log.warn(append("account", token.accountId()).and(append("token_id", token.publicId())),
              "the revocation of token {} whose outcome was unknown did not commit (the store reads the token"
              + " active): its fence is lowered and its delegates carry on; revoke it again if it should end",
              token.publicId());
        }
      } else if (!cutter.isCut(token.id())) {
        // another revoke of it is running here, or one or an expiry raised the fence since the read:
        // ask the store again once they are done (whichever ends the token cuts it before that)
        putInDoubt(token);
      }
      return;
    }
    int closed;
    if (byItsRevoke) {
      closed = cutter.cut(token.id());
    } else {
      closed = cutter.cutUnlessRevoking(token.id());
      if (closed < 0) {
        // a revoke of it began since the read: it cuts and counts the streams, or, failing to
        // commit, leaves the token to the next pass
        if (!cutter.isCut(token.id())) {
          putInDoubt(token);
        }
        return;
      }
    }
    if (!byItsRevoke) {
      log.warn(append("account", token.accountId()).and(append("token_id", token.publicId())),
          "the revocation of token {} whose outcome was unknown: the store reads the token {}; {} live streams"
          + " closed here", token.publicId(), now.map(t -> t.id() == token.id()
              ? t.status().name().toLowerCase(java.util.Locale.ROOT) : "deleted").orElse("deleted"), closed);
    }
  }

  /**
   * A token left fenced, as the entry {@link #settleInDoubt} settles: compared by identity, so that
   * a pass removes only the entry it read, not one a later revoke put.
   */
  private static final class InDoubt {
    private final TokenRecord token;

    InDoubt(TokenRecord token) {
      this.token = token;
    }

    TokenRecord token() {
      return token;
    }
  }

  /**
   * Seals again, under the current scheme, every token key sealed by an earlier version (see
   * {@link MasterKey}); returns how many. Run at start; idempotent, and safe on several replicas
   * at once (a key is replaced only where it still holds what was read).
   */
  public int resealLegacyKeys() {
    List<TokenStore.Reseal> reseals = new java.util.ArrayList<>();
    store.sealedKeys().forEach((id, k) -> {
      if (masterKey.isLegacy(k.sealed())) {
        try {
          byte[] key = masterKey.open(k.sealed(), k.accountId(), k.publicId());
          reseals.add(new TokenStore.Reseal(id, k.sealed(), masterKey.seal(key, k.accountId(), k.publicId())));
        } catch (IllegalStateException e) {
          // left as it is: its handshakes are refused, and logged, until the right master.key is back
          log.error("the key of token {} cannot be opened with this master.key; it was not sealed again: {}",
              k.publicId(), e.getMessage());
        }
      }
    });
    int replaced = store.replaceSealedKeys(reseals);
    if (replaced > 0) {
      log.info("{} token keys sealed by an earlier version were sealed again under the current scheme", replaced);
    }
    return replaced;
  }

  /** Deletes a revoked token, freeing its name. Active tokens must be revoked first. */
  public TokenRecord delete(String accountId, String name, String actor) {
    return delete(accountId, name, Actor.named(actor));
  }

  /** Deletes as {@link #delete(String, String, String)} does, for {@code actor}. */
  public TokenRecord delete(String accountId, String name, Actor actor) {
    TokenRecord token = token(accountId, name);
    if (token.active()) {
      throw Status.FAILED_PRECONDITION.withDescription("token " + UserText.quote(name) + " of account "
          + UserText.quote(accountId) + " is active; revoke it first ('token revoke')").asRuntimeException();
    }
    boolean deleted = guard(() -> store.deleteToken(token, clock.instant(), actor));
    if (!deleted) {
      throw Status.NOT_FOUND.withDescription("token " + UserText.quote(name) + " not found in account "
          + UserText.quote(accountId)).asRuntimeException();
    }
    // ended, so nothing of it may stay live here: a stream left by a revoke whose outcome was in
    // doubt, a session made before its fence. Its fence stays, cut: a call already past the session
    // check when the token was deleted is closed as revoked when it registers (a fresh fence would
    // let it register). A fence is a few hundred bytes, and tokens are deleted by hand.
    cutter.cut(token.id());
    if (inDoubt.remove(token.id()) != null) {
      metrics.revocationsInDoubt(inDoubt.size());
    }
    log.info(append("account", accountId).and(append("token_id", token.publicId())),
        "token deleted: {} {} {} by {}", accountId, UserText.quote(name), token.publicId(), actor);
    return token;
  }

  private static String ms(long nanos) {
    return Millis.of(nanos);
  }

  /**
   * The stored form of a token: public id, sealed key and value fingerprint. For a custom value
   * this costs two Argon2id evaluations, one salted with the account, one with the global
   * fingerprint salt.
   */
  private NewToken newToken(String accountId, String name, DelegateToken value, Instant now,
      String actor, Instant expiresAt, String description) {
    TokenCredential credential = value.credential(accountId);
    String fingerprint = HEX.encode(value.fingerprint(masterKey.subkey(FINGERPRINT_PURPOSE)));
    return new NewToken(accountId, name, credential.publicId(),
        masterKey.seal(credential.key(), accountId, credential.publicId()), now, actor, expiresAt, fingerprint,
        description);
  }

  private static <T> T guard(java.util.function.Supplier<T> work) {
    try {
      return work.get();
    } catch (StoreException e) {
      throw unavailable(e);
    }
  }

  static StatusRuntimeException unavailable(StoreException e) {
    log.error("store failure: {}", e.getMessage());
    return Status.UNAVAILABLE.withDescription("manager storage unavailable, retry later").asRuntimeException();
  }
}
