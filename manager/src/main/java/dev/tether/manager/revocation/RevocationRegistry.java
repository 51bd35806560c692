package dev.tether.manager.revocation;

import dev.tether.common.handshake.WireText;
import dev.tether.manager.metrics.GrpcCallMetrics.CallMeters;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.Status;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.function.Consumer;

/**
 * Every live authenticated delegate call on this manager, grouped by token, and the per-token
 * fence that revocation raises before it commits. Registration and revocation follow the same
 * order in opposite directions (add, then check the fence; raise the fence, then sweep), so a
 * call registering while its token is revoked is always either swept or refused.
 */
public final class RevocationRegistry {

  /**
   * The status every stream of a revoked or expired token is closed with; its trailer
   * {@link #TOKEN_STATE} says which (docs/protocol.md 6.1).
   */
  public static final Status REVOKED = Status.UNAUTHENTICATED.withDescription(WireText.TOKEN_REVOKED);
  /** Closes a stream whose registration a revoke's fence refused, once that revoke has failed. */
  static final Status REGISTRATION_INTERRUPTED = Status.UNAVAILABLE.withDescription(
      "registration interrupted by a revocation that did not complete; retry");

  /** The trailer that tells the token's holder whether its token was revoked or has expired. */
  public static final Metadata.Key<String> TOKEN_STATE =
      Metadata.Key.of(WireText.TOKEN_STATE_TRAILER, Metadata.ASCII_STRING_MARSHALLER);

  /**
   * A cut this close before the token's expiry time counts as its expiry: another replica's
   * announcement of the expiry can arrive while this replica's clock is slightly behind.
   */
  static final Duration CLOCK_ALLOWANCE = Duration.ofSeconds(1);

  private final ConcurrentMap<Long, TokenFence> fences = new ConcurrentHashMap<>();
  private final Clock clock;

  /** Set by {@link #closeEvery}: the status every call gets from then on. */
  private volatile Status stopping;

  /** On the system clock, the one the manager's expiry timers follow. */
  public RevocationRegistry() {
    this(Clock.systemUTC());
  }

  /** With {@code clock} telling an expiry from a revocation. */
  public RevocationRegistry(Clock clock) {
    this.clock = clock;
  }

  public TokenFence fence(long tokenRow) {
    return fences.computeIfAbsent(tokenRow, TokenFence::new);
  }

  public boolean isFenced(long tokenRow) {
    TokenFence fence = fences.get(tokenRow);
    return fence != null && fence.revoked();
  }

  /**
   * Registers an authenticated call of a token that expires at {@code tokenExpiresAt} (null: never),
   * from {@code subject} (named by its {@code toString} in log lines: the delegate's identity).
   * Returns the live handle, already closed with {@link #REVOKED} when the token was cut meanwhile.
   * One whose token a revoke has fenced but not yet cut is held, like a Register refused by the
   * fence ({@link LiveStream#acceptRegistration}): the revoke closes it with the token's other
   * streams once it commits, and one that fails to commit closes it with
   * {@link #REGISTRATION_INTERRUPTED} when it lowers the fence, so that no delegate is told its
   * token was revoked by a revoke that did not happen.
   */
  public LiveStream register(ServerCall<?, ?> call, long tokenRow, String tokenPublicId, Instant tokenExpiresAt,
      Object subject) {
    return register(call, tokenRow, tokenPublicId, tokenExpiresAt, subject, null, 0);
  }

  /**
   * Like {@link #register(ServerCall, long, String, Instant, Object)}, for a call whose gRPC meters
   * {@code meters} the live handle keeps, started at {@code started} on their clock.
   */
  public LiveStream register(ServerCall<?, ?> call, long tokenRow, String tokenPublicId, Instant tokenExpiresAt,
      Object subject, CallMeters meters, long started) {
    TokenFence fence = fence(tokenRow);
    fence.publicId(tokenPublicId);
    fence.expiresAt(tokenExpiresAt);
    LiveStream stream = new LiveStream(call, fence, subject, meters, started);
    fence.streams().add(stream);
    // read after the add, as the cut marks the fence before it sweeps, and lowering the fence
    // clears it before it looks for held calls: one of the two always finds this call
    if (fence.cut()) {
      stream.closeWith(REVOKED, trailers(tokenState(fence)));
    } else {
      stream.holdIfFenced();
    }
    // read after the add, as closeEvery writes it before it looks: one of the two closes the call
    Status stop = stopping;
    if (stop != null) {
      stream.closeWith(stop);
    }
    return stream;
  }

  /**
   * The manager stops: closes every live call with {@code status}, those whose delegate has not
   * registered yet included, and every call registered from now on. Returns how many it closed.
   */
  public int closeEvery(Status status) {
    stopping = status;
    int closed = 0;
    for (TokenFence fence : fences.values()) {
      for (LiveStream stream : fence.streams()) {
        if (stream.closeWith(status)) {
          closed++;
        }
      }
    }
    return closed;
  }

  /**
   * The trailer of a cut stream: {@code expired} when the cut comes at (or within
   * {@link #CLOCK_ALLOWANCE} before) the token's expiry time, else {@code revoked}. Every cut of
   * an active token is one or the other (a token is deleted only once it has ended), and only the
   * token's holder, past the handshake and the session MAC, receives it.
   */
  private String tokenState(TokenFence fence) {
    Instant expiresAt = fence.expiresAt();
    boolean expired = expiresAt != null && !clock.instant().isBefore(expiresAt.minus(CLOCK_ALLOWANCE));
    return expired ? WireText.TOKEN_STATE_EXPIRED : WireText.TOKEN_STATE_REVOKED;
  }

  /** A trailer of its own for each call: gRPC may still be writing one when the next is built. */
  private static Metadata trailers(String tokenState) {
    Metadata trailers = new Metadata();
    trailers.put(TOKEN_STATE, tokenState);
    return trailers;
  }

  /** Forgets a call that has ended and tells its end listeners. */
  public void unregister(LiveStream stream) {
    stream.fence().streams().remove(stream);
    stream.ended();
  }

  /**
   * Raises the fence: from now on no heartbeat of the token is accepted and no call registers.
   * Returns once every acceptance that began before the fence went up has finished, so that a
   * commit made after this call is strictly after the last accepted heartbeat.
   */
  public void raiseFence(long tokenRow) {
    TokenFence fence = fence(tokenRow);
    fence.revoked(true);
    for (LiveStream stream : fence.streams()) {
      stream.awaitIdle();
    }
  }

  /**
   * Lowers the fence after a revocation that did not commit. A stream whose registration the fence
   * refused meanwhile is closed with {@link #REGISTRATION_INTERRUPTED}: its delegate retries.
   */
  public void lowerFence(long tokenRow) {
    TokenFence fence = fence(tokenRow);
    fence.revoked(false);
    for (LiveStream stream : fence.streams()) {
      stream.closeIfRegistrationFenced(REGISTRATION_INTERRUPTED);
    }
  }

  /**
   * Closes every live call of the token with {@link #REVOKED} and its {@link #TOKEN_STATE} trailer;
   * returns how many it closed.
   */
  public int closeAll(long tokenRow) {
    TokenFence fence = fences.get(tokenRow);
    if (fence == null) {
      return 0;
    }
    int closed = 0;
    String state = tokenState(fence);
    for (LiveStream stream : fence.streams()) {
      if (stream.closeWith(REVOKED, trailers(state))) {
        closed++;
      }
    }
    return closed;
  }

  /** Tokens with live calls on this manager (what reconciliation must check). */
  public List<Long> liveTokenIds() {
    List<Long> ids = new ArrayList<>();
    for (TokenFence fence : fences.values()) {
      if (!fence.streams().isEmpty()) {
        ids.add(fence.tokenRow());
      }
    }
    return ids;
  }

  /** Runs {@code action} for every live call on this manager, registered or not yet. */
  public void forEachStream(Consumer<LiveStream> action) {
    for (TokenFence fence : fences.values()) {
      fence.streams().forEach(action);
    }
  }

  /** Runs {@code action} for every live call of the token in row {@code tokenRow}, registered or not yet. */
  public void forEachStreamOf(long tokenRow, Consumer<LiveStream> action) {
    TokenFence fence = fences.get(tokenRow);
    if (fence != null) {
      fence.streams().forEach(action);
    }
  }

  /** Total live calls on this manager. */
  public int liveCount() {
    int n = 0;
    for (TokenFence fence : fences.values()) {
      n += fence.streams().size();
    }
    return n;
  }

  /**
   * How a person should read a token in a log line: its public id where a stream of it registered
   * here, else its row in the tokens table (an internal number, never shown to delegates).
   */
  public String describe(long tokenRow) {
    TokenFence fence = fences.get(tokenRow);
    String publicId = fence == null ? null : fence.publicId();
    return publicId != null ? publicId : "in row " + tokenRow;
  }
}
