package dev.tether.manager.auth;

import static net.logstash.logback.marker.Markers.append;

import com.google.protobuf.ByteString;
import dev.tether.common.handshake.HandshakeCrypto;
import dev.tether.common.handshake.Transcript;
import dev.tether.common.text.UserText;
import dev.tether.manager.logging.RefusalReporter;
import dev.tether.manager.metrics.ManagerMetrics;
import dev.tether.manager.metrics.ManagerMetrics.HandshakeOutcome;
import dev.tether.manager.revocation.RevocationRegistry;
import dev.tether.manager.store.StoreException;
import dev.tether.manager.store.TetherStore;
import dev.tether.manager.store.TokenRecord;
import dev.tether.manager.store.WriteBehind;
import dev.tether.manager.token.MasterKey;
import dev.tether.proto.delegate.v1.Accepted;
import dev.tether.proto.delegate.v1.Begin;
import dev.tether.proto.delegate.v1.Challenge;
import dev.tether.proto.delegate.v1.DelegateAuthGrpc;
import dev.tether.proto.delegate.v1.HandshakeRequest;
import dev.tether.proto.delegate.v1.HandshakeResponse;
import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.time.Clock;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The manager's side of the mutual token handshake (docs/protocol.md, "Handshake"). The manager
 * proves knowledge of the token key first; for an unknown account or token it answers with a
 * decoy proof, so that nothing on the wire says which part was wrong. Every failure ends the call
 * with the same UNAUTHENTICATED; the log names the reason and the token's public id.
 */
public final class HandshakeService extends DelegateAuthGrpc.DelegateAuthImplBase {

  private static final Logger log = LoggerFactory.getLogger(HandshakeService.class);
  private static final Pattern TOKEN_ID = Pattern.compile("tid_[a-z2-7]{16}");
  private static final int MAX_ACCOUNT_ID = 64;
  private static final int MAX_DELEGATE_NAME = 128;

  private final TetherStore store;
  private final MasterKey masterKey;
  private final RevocationRegistry registry;
  private final SessionRegistry sessions;
  private final WriteBehind writeBehind;
  private final ScheduledExecutorService scheduler;
  private final Clock clock;
  private final Duration timeout;
  private final Duration heartbeatInterval;
  private final HandshakeLimiter limiter;
  private final RefusalReporter refusals;
  private final ManagerMetrics metrics;
  /** A sealed random key, opened for unknown tokens so that they cost what known ones cost. */
  private final String decoySealed;
  private static final String DECOY_LABEL = "\0decoy";

  public HandshakeService(TetherStore store, MasterKey masterKey, RevocationRegistry registry,
      SessionRegistry sessions, WriteBehind writeBehind, ScheduledExecutorService scheduler,
      Clock clock, Duration timeout, Duration heartbeatInterval, HandshakeLimiter limiter, RefusalReporter refusals,
      ManagerMetrics metrics) {
    this.metrics = metrics;
    this.limiter = limiter;
    this.refusals = refusals;
    this.store = store;
    this.masterKey = masterKey;
    this.registry = registry;
    this.sessions = sessions;
    this.writeBehind = writeBehind;
    this.scheduler = scheduler;
    this.clock = clock;
    this.timeout = timeout;
    this.heartbeatInterval = heartbeatInterval;
    this.decoySealed = masterKey.seal(HandshakeCrypto.randomBytes(HandshakeCrypto.KEY_BYTES), DECOY_LABEL, DECOY_LABEL);
  }

  /**
   * What a failed handshake counts against: the remote address, for every failure the delegate
   * caused (a wrong proof, an unknown account or token, a timeout, an abandoned or cancelled
   * handshake), nothing when the manager itself could not serve it.
   */
  private enum Counts { NOTHING, ADDRESS }

  static final Status SHUTTING_DOWN = Status.UNAVAILABLE.withDescription("manager shutting down");
  /** The token is active in the store but fenced here by a revocation not yet settled (docs/protocol.md 4.5). */
  static final Status FENCED = Status.UNAVAILABLE.withDescription(
      "a revocation of this token is in progress on the manager; retry later");
  static final Status TOO_MANY_SESSIONS = Status.RESOURCE_EXHAUSTED.withDescription(
      "too many sessions of this token waiting for their stream; retry later");

  @Override
  public StreamObserver<HandshakeRequest> handshake(StreamObserver<HandshakeResponse> responses) {
    TransportInfo transport = AuthContext.transport();
    HandshakeLimiter.Permit permit;
    try {
      permit = limiter.start(transport.remoteHost(), transport.connection());
    } catch (HandshakeLimiter.Refused refused) {
      refusals.report(transport.remoteHost(), refused.getMessage(), transport.remoteAddress());
      metrics.handshake(HandshakeOutcome.LIMITED);
      responses.onError(refused.status().asRuntimeException());
      return ignoring();
    }
    try {
      return new Exchange((ServerCallStreamObserver<HandshakeResponse>) responses, transport, permit);
    } catch (RejectedExecutionException stopping) {
      // a call that slipped in while the manager stops: its deadline timer is gone
      permit.release();
      metrics.handshake(HandshakeOutcome.UNAVAILABLE);
      responses.onError(SHUTTING_DOWN.asRuntimeException());
      return ignoring();
    }
  }

  private static StreamObserver<HandshakeRequest> ignoring() {
    return new StreamObserver<>() {
      @Override
      public void onNext(HandshakeRequest value) { }

      @Override
      public void onError(Throwable t) { }

      @Override
      public void onCompleted() { }
    };
  }

  /**
   * One handshake in progress: Begin, then Prove, within the deadline. gRPC delivers messages and
   * the cancellation one at a time; the deadline fires on the timer thread. The monitor guards only
   * the state they share and the sends; database reads and key work happen outside it, so a slow
   * database never holds up the deadline timer (which needs the monitor to end a handshake).
   */
  private final class Exchange implements StreamObserver<HandshakeRequest> {
    private final ServerCallStreamObserver<HandshakeResponse> out;
    private final TransportInfo transport;
    private final HandshakeLimiter.Permit permit;
    private final ScheduledFuture<?> deadline;
    private boolean finished;
    private Begin begin;
    private byte[] tokenKey;
    private byte[] transcriptHash;
    private Optional<TokenRecord> token = Optional.empty();
    /** When Begin arrived (monotonic), for the handshake's duration. */
    private long beganNanos;

    Exchange(ServerCallStreamObserver<HandshakeResponse> out, TransportInfo transport, HandshakeLimiter.Permit permit) {
      this.out = out;
      this.transport = transport;
      this.permit = permit;
      this.deadline = scheduler.schedule(this::expire, timeout.toMillis(), TimeUnit.MILLISECONDS);
      out.setOnCancelHandler(this::cancelled);
    }

    @Override
    public void onNext(HandshakeRequest request) {
      synchronized (this) {
        if (finished) {
          return;
        }
      }
      if (request == MalformedMessages.HANDSHAKE) {
        fail(Status.INVALID_ARGUMENT.withDescription("malformed handshake message: not a HandshakeRequest"),
            "malformed message (not protobuf)", transport.remoteAddress(), Counts.ADDRESS, HandshakeOutcome.MALFORMED);
        return;
      }
      try {
        switch (request.getStepCase()) {
          case BEGIN -> onBegin(request.getBegin());
          case PROVE -> onProve(request.getProve().getClientProof().toByteArray());
          default -> fail(Status.INVALID_ARGUMENT.withDescription("handshake message has no step"),
              "empty message", transport.remoteAddress(), Counts.ADDRESS, HandshakeOutcome.MALFORMED);
        }
      } catch (StoreException e) {
        log.error("handshake from {} failed: {}", transport.remoteAddress(), e.getMessage());
        fail(Status.UNAVAILABLE.withDescription("manager storage unavailable, retry later"),
            "storage unavailable", transport.remoteAddress(), Counts.NOTHING, HandshakeOutcome.UNAVAILABLE);
      } catch (IllegalStateException e) {
        // a sealed key that this master key cannot open: the manager's data is wrong, not the delegate
        log.error("handshake from {} failed: {}", transport.remoteAddress(), e.getMessage());
        fail(DelegateSessionInterceptor.FAILED, "token key cannot be opened", transport.remoteAddress(), Counts.NOTHING,
            HandshakeOutcome.UNAVAILABLE);
      }
    }

    private void onBegin(Begin b) {
      if (b.getProtocolVersion() != HandshakeCrypto.PROTOCOL_VERSION) {
        String version = Integer.toUnsignedString(b.getProtocolVersion());
        fail(Status.FAILED_PRECONDITION.withDescription("unsupported protocol version " + version
            + "; this manager speaks version " + HandshakeCrypto.PROTOCOL_VERSION),
            "unsupported protocol version", version + " from " + transport.remoteAddress(), Counts.ADDRESS,
            HandshakeOutcome.UNSUPPORTED_VERSION);
        return;
      }
      String problem = invalidBegin(b);
      if (problem != null) {
        fail(Status.INVALID_ARGUMENT.withDescription("malformed handshake: " + problem),
            "malformed Begin", problem + " from " + transport.remoteAddress(), Counts.ADDRESS,
            HandshakeOutcome.MALFORMED);
        return;
      }
      synchronized (this) {
        if (begin != null) {
          failLocked(DelegateSessionInterceptor.FAILED, "second Begin", transport.remoteAddress(), Counts.ADDRESS,
              HandshakeOutcome.MALFORMED);
          return;
        }
        begin = b;
        beganNanos = System.nanoTime();
      }
      // The same work whether the token exists or not (one read, one key opened, one decoy key
      // derived), so that the time to the Challenge does not say which; the account is read only
      // when the handshake has failed, for the log.
      Optional<TokenRecord> found = store.findTokenByPublicId(b.getAccountId(), b.getTokenId());
      byte[] decoy = masterKey.decoyKey(b.getAccountId(), b.getTokenId());
      byte[] key;
      if (found.isPresent()) {
        key = masterKey.open(found.get().sealedKey(), b.getAccountId(), b.getTokenId());
      } else {
        masterKey.open(decoySealed, DECOY_LABEL, DECOY_LABEL);
        key = decoy;
      }
      byte[] serverNonce = HandshakeCrypto.randomBytes(HandshakeCrypto.NONCE_BYTES);
      byte[] hash = new Transcript(HandshakeCrypto.PROTOCOL_VERSION, b.getAccountId(),
          b.getTokenId(), b.getDelegateName(), b.getClientNonce().toByteArray(), serverNonce,
          transport.channelBinding()).hash();
      HandshakeResponse challenge = HandshakeResponse.newBuilder()
          .setChallenge(Challenge.newBuilder()
              .setServerNonce(ByteString.copyFrom(serverNonce))
              .setServerProof(ByteString.copyFrom(HandshakeCrypto.serverProof(key, hash))))
          .build();
      synchronized (this) {
        if (finished) {
          return;
        }
        token = found;
        tokenKey = key;
        transcriptHash = hash;
        out.onNext(challenge);
      }
    }

    private String who() {
      Begin b;
      synchronized (this) {
        b = begin;
      }
      // the account id is what the client claims: quoted, so that it cannot fake the fields around it
      return "account " + UserText.quote(b.getAccountId()) + " token " + b.getTokenId() + " delegate "
          + UserText.quote(b.getDelegateName()) + " from " + transport.remoteAddress();
    }

    private void onProve(byte[] clientProof) {
      Begin b;
      Optional<TokenRecord> known;
      byte[] key;
      byte[] hash;
      synchronized (this) {
        if (begin == null || tokenKey == null) {
          failLocked(DelegateSessionInterceptor.FAILED, "Prove before Begin", transport.remoteAddress(), Counts.ADDRESS,
              HandshakeOutcome.MALFORMED);
          return;
        }
        b = begin;
        known = token;
        key = tokenKey;
        hash = transcriptHash;
      }
      boolean proofOk = HandshakeCrypto.equal(HandshakeCrypto.clientProof(key, hash), clientProof);
      if (known.isEmpty()) {
        failUnknown("sent a proof", false);
        return;
      }
      if (!proofOk) {
        fail(DelegateSessionInterceptor.FAILED, "wrong proof (token does not match)", who(), Counts.ADDRESS,
            HandshakeOutcome.BAD_PROOF);
        return;
      }
      TokenRecord t = known.get();
      // The session first, then the checks: a revoke commits its fence and its REVOKED before it
      // drops the token's sessions, so a session created before those checks is either seen
      // revoked by them or dropped by the revoke itself (the order stream registration uses too).
      DelegateIdentity identity = new DelegateIdentity(t.accountId(), t.id(), t.publicId(), t.name(),
          b.getDelegateName(), t.expiresAt());
      Session session = sessions.create(HandshakeCrypto.sessionKey(key, hash), identity, transport.connection(),
          transport.remoteHost());
      if (session == null) {
        fail(TOO_MANY_SESSIONS, "too many sessions waiting for their stream", who(), Counts.NOTHING,
            HandshakeOutcome.TOO_MANY_SESSIONS);
        return;
      }
      String refusal = null;
      HandshakeOutcome outcome = null;
      try {
        Optional<TokenRecord> current = store.findTokenByPublicId(b.getAccountId(), b.getTokenId());
        if (current.isEmpty() || current.get().id() != t.id() || !current.get().active()) {
          refusal = "revoked token";
          outcome = HandshakeOutcome.REVOKED;
        } else if (current.get().expiresAt() != null && !clock.instant().isBefore(current.get().expiresAt())) {
          refusal = "expired token";
          outcome = HandshakeOutcome.EXPIRED;
        } else if (registry.isFenced(t.id())) {
          // active in the store, fenced here: a revoke is committing, or one failed with its outcome
          // unknown. Not a refusal of the token, which may carry on: the delegate retries
          sessions.discard(session);
          fail(FENCED, "token fenced by a revocation not yet settled", who(), Counts.NOTHING,
              HandshakeOutcome.UNAVAILABLE);
          return;
        }
      } catch (RuntimeException e) {
        sessions.discard(session);
        throw e;
      }
      if (refusal != null) {
        sessions.discard(session);
        fail(DelegateSessionInterceptor.FAILED, refusal, who(), Counts.ADDRESS, outcome);
        return;
      }
      synchronized (this) {
        if (finished) {
          sessions.discard(session);
          return;
        }
        finish();
        metrics.handshakeAccepted(beganNanos, System.nanoTime());
        out.onNext(HandshakeResponse.newBuilder()
            .setAccepted(Accepted.newBuilder()
                .setSessionId(ByteString.copyFrom(session.sessionId()))
                .setHeartbeatIntervalMs((int) heartbeatInterval.toMillis()))
            .build());
        out.onCompleted();
      }
      writeBehind.tokenUsed(t.id(), clock.instant());
      log.info(append("account", t.accountId()).and(append("token_id", t.publicId())),
          "delegate authenticated: {} token {}", who(), UserText.quote(t.name()));
    }

    /** The account or token named in Begin does not exist; the delegate got a decoy Challenge. */
    private void failUnknown(String howItEnded, boolean gaveUp) {
      if (!fail(DelegateSessionInterceptor.FAILED, null, null, Counts.ADDRESS, null)) {
        return;
      }
      // after the answer, so that the extra read does not show in its timing
      Begin b;
      synchronized (this) {
        b = begin;
      }
      boolean accountKnown;
      try {
        accountKnown = store.findAccount(b.getAccountId()).isPresent();
      } catch (StoreException e) {
        metrics.handshake(gaveUp ? HandshakeOutcome.ABANDONED_AFTER_DECOY : HandshakeOutcome.UNKNOWN_TOKEN);
        refusals.report(transport.remoteHost(), "unknown account or token id; the delegate " + howItEnded
            + " after a decoy Challenge", who());
        return;
      }
      metrics.handshake(gaveUp ? HandshakeOutcome.ABANDONED_AFTER_DECOY
          : accountKnown ? HandshakeOutcome.UNKNOWN_TOKEN : HandshakeOutcome.UNKNOWN_ACCOUNT);
      refusals.report(transport.remoteHost(), (accountKnown ? "unknown token id" : "unknown account")
          + "; the delegate " + howItEnded + " after a decoy Challenge", who());
    }

    private void cancelled() {
      boolean decoyed;
      synchronized (this) {
        if (finished) {
          return;
        }
        decoyed = begin != null && tokenKey != null && token.isEmpty();
        if (!decoyed) {
          finish();
          limiter.failed(transport.remoteHost());
          metrics.handshake(HandshakeOutcome.ABANDONED);
        }
      }
      if (decoyed) {
        failUnknown("gave up", true);
      } else {
        log.debug("handshake abandoned by {}", transport.remoteAddress());
      }
    }

    @Override
    public void onError(Throwable t) {
      cancelled();
    }

    @Override
    public void onCompleted() {
      synchronized (this) {
        if (!finished) {
          failLocked(DelegateSessionInterceptor.FAILED, "delegate ended the handshake early",
              transport.remoteAddress(), Counts.ADDRESS, HandshakeOutcome.ABANDONED);
        }
      }
    }

    private void expire() {
      synchronized (this) {
        if (!finished) {
          failLocked(Status.DEADLINE_EXCEEDED.withDescription("handshake not completed within " + timeout.toMillis()
              + " ms"), "timed out", transport.remoteAddress(), Counts.ADDRESS, HandshakeOutcome.TIMED_OUT);
        }
      }
    }

    private void finish() {
      finished = true;
      deadline.cancel(false);
      permit.release();
    }

    private synchronized boolean fail(Status status, String reason, String detail, Counts counts,
        HandshakeOutcome outcome) {
      return failLocked(status, reason, detail, counts, outcome);
    }

    /**
     * Ends the handshake with {@code status}, unless it has ended already, and reports the refusal
     * ({@code reason}, one of a fixed set, with {@code detail}) unless {@code reason} is null (the
     * caller reports it), counting it under {@code outcome} unless that is null (the caller counts
     * it). Returns whether this call ended it. Holds the monitor.
     */
    private boolean failLocked(Status status, String reason, String detail, Counts counts, HandshakeOutcome outcome) {
      if (finished) {
        return false;
      }
      finish();
      if (outcome != null) {
        metrics.handshake(outcome);
      }
      if (counts == Counts.ADDRESS) {
        limiter.failed(transport.remoteHost());
      }
      if (reason != null) {
        refusals.report(transport.remoteHost(), reason, detail);
      }
      try {
        out.onError(status.asRuntimeException());
      } catch (IllegalStateException alreadyClosed) {
        log.debug("handshake call already closed");
      }
      return true;
    }
  }

  private static String invalidBegin(Begin b) {
    Optional<String> text = UserText.problem("account_id", b.getAccountId(), 1, MAX_ACCOUNT_ID)
        .or(() -> UserText.problem("delegate_name", b.getDelegateName(), 1, MAX_DELEGATE_NAME));
    if (text.isPresent()) {
      return text.get();
    }
    if (!TOKEN_ID.matcher(b.getTokenId()).matches()) {
      return "token_id must be 'tid_' followed by 16 base32 characters";
    }
    if (b.getClientNonce().size() != HandshakeCrypto.NONCE_BYTES) {
      return "client_nonce must be " + HandshakeCrypto.NONCE_BYTES + " bytes";
    }
    return null;
  }
}
