package dev.tether.manager.auth;

import com.google.protobuf.ByteString;
import dev.tether.common.handshake.HandshakeCrypto;
import dev.tether.common.handshake.Transcript;
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

  public HandshakeService(TetherStore store, MasterKey masterKey, RevocationRegistry registry,
      SessionRegistry sessions, WriteBehind writeBehind, ScheduledExecutorService scheduler,
      Clock clock, Duration timeout, Duration heartbeatInterval, HandshakeLimiter limiter) {
    this.limiter = limiter;
    this.store = store;
    this.masterKey = masterKey;
    this.registry = registry;
    this.sessions = sessions;
    this.writeBehind = writeBehind;
    this.scheduler = scheduler;
    this.clock = clock;
    this.timeout = timeout;
    this.heartbeatInterval = heartbeatInterval;
  }

  /**
   * What a failed handshake counts against. Only a guess at a credential (an unknown token id or a
   * wrong proof) counts against the token id: a timeout or a dropped call under load, as when a
   * whole fleet reconnects after a restart, must not lock the fleet's token out. A refusal by the
   * limiter itself counts against nothing, so a bucket refills even while refused callers retry.
   */
  private enum Counts { NOTHING, ADDRESS, ADDRESS_AND_TOKEN }

  static final Status SHUTTING_DOWN = Status.UNAVAILABLE.withDescription("manager shutting down");

  @Override
  public StreamObserver<HandshakeRequest> handshake(StreamObserver<HandshakeResponse> responses) {
    TransportInfo transport = AuthContext.transport();
    Status refused = limiter.start(transport.remoteHost());
    if (refused != null) {
      log.warn("handshake refused before it began: {} ({})", refused.getDescription(), transport.remoteAddress());
      responses.onError(refused.asRuntimeException());
      return ignoring();
    }
    try {
      return new Exchange((ServerCallStreamObserver<HandshakeResponse>) responses, transport);
    } catch (RejectedExecutionException stopping) {
      // a call that slipped in while the manager stops: its deadline timer is gone
      limiter.finished();
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

  /** One handshake in progress: Begin, then Prove, within the deadline. */
  private final class Exchange implements StreamObserver<HandshakeRequest> {
    private final ServerCallStreamObserver<HandshakeResponse> out;
    private final TransportInfo transport;
    private final ScheduledFuture<?> deadline;
    private boolean finished;
    private Begin begin;
    private byte[] tokenKey;
    private byte[] transcriptHash;
    private Optional<TokenRecord> token = Optional.empty();
    private boolean accountKnown;
    private boolean released;
    private String limitKey;

    Exchange(ServerCallStreamObserver<HandshakeResponse> out, TransportInfo transport) {
      this.out = out;
      this.transport = transport;
      this.deadline = scheduler.schedule(this::expire, timeout.toMillis(), TimeUnit.MILLISECONDS);
      out.setOnCancelHandler(() -> {
        synchronized (this) {
          finished = true;
          deadline.cancel(false);
          release();
        }
      });
    }

    @Override
    public synchronized void onNext(HandshakeRequest request) {
      if (finished) {
        return;
      }
      try {
        switch (request.getStepCase()) {
          case BEGIN -> onBegin(request.getBegin());
          case PROVE -> onProve(request.getProve().getClientProof().toByteArray());
          default -> fail(Status.INVALID_ARGUMENT.withDescription("handshake message has no step"),
              "empty handshake message");
        }
      } catch (StoreException e) {
        log.error("handshake from {} failed: {}", transport.remoteAddress(), e.getMessage());
        fail(Status.UNAVAILABLE.withDescription("manager storage unavailable, retry later"),
            "storage unavailable");
      }
    }

    private void onBegin(Begin b) {
      if (begin != null) {
        fail(DelegateSessionInterceptor.FAILED, "second Begin in one handshake from " + transport.remoteAddress());
        return;
      }
      if (b.getProtocolVersion() != HandshakeCrypto.PROTOCOL_VERSION) {
        fail(Status.FAILED_PRECONDITION.withDescription("unsupported protocol version "
            + b.getProtocolVersion() + "; this manager speaks version " + HandshakeCrypto.PROTOCOL_VERSION),
            "protocol version " + b.getProtocolVersion() + " from " + transport.remoteAddress());
        return;
      }
      String problem = invalidBegin(b);
      if (problem != null) {
        fail(Status.INVALID_ARGUMENT.withDescription("malformed handshake: " + problem),
            "malformed Begin from " + transport.remoteAddress() + ": " + problem);
        return;
      }
      limitKey = b.getAccountId() + "/" + b.getTokenId();
      Status limited = limiter.checkToken(limitKey, transport.remoteHost());
      if (limited != null) {
        fail(limited, "token " + b.getAccountId() + "/" + b.getTokenId() + " is rate limited after failed"
            + " handshakes; refused from " + transport.remoteAddress(), Counts.NOTHING);
        return;
      }
      begin = b;
      // a token row implies its account; only a miss needs the second read, for the log's reason
      token = store.findTokenByPublicId(b.getAccountId(), b.getTokenId());
      accountKnown = token.isPresent() || store.findAccount(b.getAccountId()).isPresent();
      tokenKey = token.isPresent()
          ? masterKey.open(token.get().sealedKey(), b.getAccountId(), b.getTokenId())
          : masterKey.decoyKey(b.getAccountId(), b.getTokenId());
      byte[] serverNonce = HandshakeCrypto.randomBytes(HandshakeCrypto.NONCE_BYTES);
      transcriptHash = new Transcript(HandshakeCrypto.PROTOCOL_VERSION, b.getAccountId(),
          b.getTokenId(), b.getDelegateName(), b.getClientNonce().toByteArray(), serverNonce,
          HandshakeCrypto.channelBinding(transport.localCertificateDer())).hash();
      out.onNext(HandshakeResponse.newBuilder()
          .setChallenge(Challenge.newBuilder()
              .setServerNonce(ByteString.copyFrom(serverNonce))
              .setServerProof(ByteString.copyFrom(HandshakeCrypto.serverProof(tokenKey, transcriptHash))))
          .build());
    }

    private void onProve(byte[] clientProof) {
      if (begin == null) {
        fail(DelegateSessionInterceptor.FAILED, "Prove before Begin");
        return;
      }
      String who = begin.getAccountId() + "/" + begin.getTokenId() + " delegate '"
          + begin.getDelegateName() + "' from " + transport.remoteAddress();
      boolean proofOk = HandshakeCrypto.equal(HandshakeCrypto.clientProof(tokenKey, transcriptHash), clientProof);
      if (token.isEmpty()) {
        fail(DelegateSessionInterceptor.FAILED,
            (accountKnown ? "unknown token id: " : "unknown account: ") + who, Counts.ADDRESS_AND_TOKEN);
        return;
      }
      if (!proofOk) {
        fail(DelegateSessionInterceptor.FAILED, "wrong proof (token does not match): " + who, Counts.ADDRESS_AND_TOKEN);
        return;
      }
      // Re-read: the token may have been revoked while this handshake was in flight.
      Optional<TokenRecord> current = store.findTokenByPublicId(begin.getAccountId(), begin.getTokenId());
      if (current.isEmpty() || !current.get().active() || registry.isFenced(current.get().id())) {
        fail(DelegateSessionInterceptor.FAILED, "revoked token: " + who);
        return;
      }
      TokenRecord t = current.get();
      if (t.expiresAt() != null && !clock.instant().isBefore(t.expiresAt())) {
        fail(DelegateSessionInterceptor.FAILED, "expired token: " + who);
        return;
      }
      DelegateIdentity identity = new DelegateIdentity(t.accountId(), t.id(), t.publicId(), t.name(),
          begin.getDelegateName());
      Session session = sessions.create(HandshakeCrypto.sessionKey(tokenKey, transcriptHash), identity);
      writeBehind.tokenUsed(t.id(), clock.instant());
      limiter.succeeded(transport.remoteHost(), limitKey);
      finished = true;
      deadline.cancel(false);
      release();
      out.onNext(HandshakeResponse.newBuilder()
          .setAccepted(Accepted.newBuilder()
              .setSessionId(ByteString.copyFrom(session.sessionId()))
              .setHeartbeatIntervalMs((int) heartbeatInterval.toMillis()))
          .build());
      out.onCompleted();
      log.info("delegate authenticated: {} token '{}'", who, t.name());
    }

    @Override
    public synchronized void onError(Throwable t) {
      finished = true;
      deadline.cancel(false);
      release();
    }

    @Override
    public synchronized void onCompleted() {
      if (!finished) {
        fail(DelegateSessionInterceptor.FAILED, "delegate ended the handshake early"
            + (begin == null ? "" : ": " + begin.getAccountId() + "/" + begin.getTokenId()));
      }
    }

    private synchronized void expire() {
      if (!finished) {
        fail(Status.DEADLINE_EXCEEDED.withDescription("handshake not completed within " + timeout.toMillis() + " ms"),
            "handshake timed out from " + transport.remoteAddress());
      }
    }

    private void release() {
      if (!released) {
        released = true;
        limiter.finished();
      }
    }

    /** A failure counted against the remote address only, unless the manager itself is unavailable. */
    private void fail(Status status, String reason) {
      fail(status, reason, status.getCode() == Status.Code.UNAVAILABLE ? Counts.NOTHING : Counts.ADDRESS);
    }

    private void fail(Status status, String reason, Counts counts) {
      finished = true;
      deadline.cancel(false);
      if (counts != Counts.NOTHING) {
        limiter.failed(transport.remoteHost(), counts == Counts.ADDRESS_AND_TOKEN ? limitKey : null);
      }
      release();
      log.warn("handshake refused: {}", reason);
      try {
        out.onError(status.asRuntimeException());
      } catch (IllegalStateException alreadyClosed) {
        log.debug("handshake call already closed");
      }
    }
  }

  private static String invalidBegin(Begin b) {
    if (b.getAccountId().isEmpty() || b.getAccountId().length() > MAX_ACCOUNT_ID) {
      return "account_id must have 1 to " + MAX_ACCOUNT_ID + " characters";
    }
    if (!TOKEN_ID.matcher(b.getTokenId()).matches()) {
      return "token_id must be 'tid_' followed by 16 base32 characters";
    }
    if (b.getDelegateName().isEmpty() || b.getDelegateName().length() > MAX_DELEGATE_NAME) {
      return "delegate_name must have 1 to " + MAX_DELEGATE_NAME + " characters";
    }
    if (hasControlCharacter(b.getAccountId()) || hasControlCharacter(b.getDelegateName())) {
      return "account_id and delegate_name must not contain control characters";
    }
    if (b.getClientNonce().size() != HandshakeCrypto.NONCE_BYTES) {
      return "client_nonce must be " + HandshakeCrypto.NONCE_BYTES + " bytes";
    }
    return null;
  }

  private static boolean hasControlCharacter(String s) {
    return s.chars().anyMatch(Character::isISOControl);
  }
}
