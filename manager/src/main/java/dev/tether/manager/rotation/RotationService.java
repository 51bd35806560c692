package dev.tether.manager.rotation;

import static java.nio.charset.StandardCharsets.UTF_8;
import static net.logstash.logback.marker.Markers.append;

import com.google.common.io.BaseEncoding;
import dev.tether.common.handshake.HandshakeCrypto;
import dev.tether.common.handshake.RotationCrypto;
import dev.tether.common.text.UserText;
import dev.tether.manager.auth.DelegateIdentity;
import dev.tether.manager.auth.SuccessorSealer;
import dev.tether.manager.revocation.LiveStream;
import dev.tether.manager.revocation.RevocationRegistry;
import dev.tether.manager.store.Actor;
import dev.tether.manager.store.DelegateRecord;
import dev.tether.manager.store.DuplicateException;
import dev.tether.manager.store.Rotation;
import dev.tether.manager.store.RotationDelegate;
import dev.tether.manager.store.RotationSchedule;
import dev.tether.manager.store.StoreException;
import dev.tether.manager.store.TetherStore;
import dev.tether.manager.store.TokenRecord;
import dev.tether.manager.token.CreatedToken;
import dev.tether.manager.token.MasterKey;
import dev.tether.manager.token.Names;
import dev.tether.manager.token.RevokeResult;
import dev.tether.manager.token.TokenService;
import dev.tether.proto.delegate.v1.ManagerMessage;
import dev.tether.proto.delegate.v1.RotateToken;
import dev.tether.proto.delegate.v1.RotationResult;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.security.GeneralSecurityException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Zero-touch token rotation (docs/rotation.md): creates the successor of a token, hands it to every
 * delegate stream of the old token on this replica over its own session (docs/protocol.md 6.3),
 * records what each delegate did, and revokes the old token when every delegate that was connected
 * with it has moved and the grace period has passed. The rotation lives in the database with the
 * successor sealed under a master subkey, so every replica pushes to its own streams and a restarted
 * manager carries on; {@link #tick} does the periodic part on each replica.
 */
public final class RotationService {

  private static final Logger log = LoggerFactory.getLogger(RotationService.class);

  public static final Duration DEFAULT_GRACE = Duration.ofMinutes(15);
  static final int MAX_REASON = 1024;
  private static final Pattern ROTATION_SUFFIX = Pattern.compile("^(.*)-r([0-9]{1,6})$");
  /** The salt of the at-rest sealing of a successor, apart from any session's. */
  private static final byte[] AT_REST = "tether/v1 stored successor".getBytes(UTF_8);
  private static final BaseEncoding BASE64 = BaseEncoding.base64();

  private final TetherStore store;
  private final TokenService tokens;
  private final byte[] sealingKey;
  private final Clock clock;
  /** Where the live delegate streams are, by token: those of a rotation's old token are handed its successor. */
  private final RevocationRegistry streams;
  private volatile List<Rotation> openRotations = List.of();
  private final long startedNanos = System.nanoTime();
  /**
   * A replica does not finish a rotation by itself until {@code settle} after it started (time for
   * the delegates of a restarted manager to come back and be counted), and a delegate that has not
   * answered a RotateToken by {@code noAnswerAfter} is counted as unable to keep the successor.
   */
  private final RotationTiming timing;
  /**
   * Rotations finished here whose revoke of the old token did not commit (the store failed), by
   * rotation id: retried every tick, as the finishing actor. The database says the rotation
   * finished, so this retry is not the only one: every manager's tick (another replica's, or this
   * one's after a restart) revokes, as the manager itself, the old token of a rotation that finished
   * at least {@link #LEFT_OVER_AFTER} ago and is still active ({@link #revokeLeftOverOldTokens});
   * whichever commits first revokes it, and the others find it revoked.
   */
  private final Map<String, OwedRevoke> revokesOwed = new ConcurrentHashMap<>();
  /**
   * How long after a rotation finished another manager (or this one after a restart) takes over its
   * owed revoke: the finishing manager revokes at once and retries every second, so a finished
   * rotation whose old token is still active after this has lost the manager that finished it.
   */
  private static final Duration LEFT_OVER_AFTER = Duration.ofSeconds(10);
  /**
   * The left-over revokes this manager has warned about and not yet seen end, so that one that keeps
   * failing is logged once; kept to those the latest read still found.
   */
  private final Set<String> leftOverWarned = ConcurrentHashMap.newKeySet();

  /**
   * Runs the database work that a delegate stream's messages cause (recording a delegate's answer,
   * handing a newly registered stream the successor), in order: the manager's rotation thread, which
   * also ticks, so that no thread that runs the streams waits for the database (see
   * {@code StreamCalls}), and an answer is recorded after the tick's "no answer" for it.
   */
  private final Executor streamWork;

  /**
   * Doing the streams' database work on the thread that calls it, with no delegate streams of its own
   * (tests that tick by hand).
   */
  public RotationService(TetherStore store, TokenService tokens, MasterKey masterKey, Clock clock,
      RotationTiming timing) {
    this(store, tokens, masterKey, clock, timing, new RevocationRegistry(), Runnable::run);
  }

  /**
   * With the streams' database work done on {@code streamWork}, one task after another, and the
   * delegate streams of this manager found in {@code streams}.
   */
  public RotationService(TetherStore store, TokenService tokens, MasterKey masterKey, Clock clock,
      RotationTiming timing, RevocationRegistry streams, Executor streamWork) {
    this.streams = streams;
    this.streamWork = streamWork;
    this.timing = timing;
    this.store = store;
    this.tokens = tokens;
    this.sealingKey = masterKey.subkey("rotation successors");
    this.clock = clock;
  }

  /** A rotation just opened, with the successor's value (shown once to the operator). */
  public record Opened(Rotation rotation, CreatedToken successor) { }

  /** A rotation and what became of each delegate of its old token. */
  public record Report(Rotation rotation, List<DelegateState> delegates) {
    public long count(String outcome) {
      return delegates.stream().filter(d -> d.outcome().equals(outcome)).count();
    }
  }

  /**
   * One delegate of a rotation: its record, and its outcome: one of {@link RotationDelegate.Outcome}'s
   * names, or NOT_SENT (connected with the old token, not handed the successor yet) or NOT_CONNECTED.
   */
  public record DelegateState(DelegateRecord delegate, String outcome, String reason, Instant at) { }

  // ------------------------------------------------------------------ commands

  /** Opens a rotation of {@code oldName}: creates the successor and, with {@code push}, hands it out. */
  public Opened open(String accountId, String oldName, String newName, Duration grace, boolean push, Actor actor) {
    TokenRecord old = tokens.token(accountId, oldName);
    if (!old.active()) {
      throw Status.FAILED_PRECONDITION.withDescription("token " + UserText.quote(oldName) + " of account "
          + UserText.quote(accountId) + " is " + old.status().name().toLowerCase(java.util.Locale.ROOT)
          + ": only an active token can be rotated").asRuntimeException();
    }
    if (grace == null) {
      grace = DEFAULT_GRACE;
    }
    if (grace.isNegative()) {
      throw Status.INVALID_ARGUMENT.withDescription("grace period " + grace + " is negative (expected 0s or more,"
          + " such as 15m)").asRuntimeException();
    }
    Optional<Rotation> current = guard(() -> store.latestRotationOf(old.id())).filter(Rotation::open);
    if (current.isPresent()) {
      throw Status.ALREADY_EXISTS.withDescription("token " + UserText.quote(oldName) + " has an open rotation "
          + current.get().id() + " to " + UserText.quote(current.get().successorTokenName()) + " ('token rotate"
          + " --account " + accountId + " --name " + oldName + " --status' shows it; --finish or --cancel ends it)")
          .asRuntimeException();
    }
    String successorName = newName == null || newName.isEmpty() ? successorName(oldName) : Names.tokenName(newName);
    Duration lifetime = old.expiresAt() == null ? null : Duration.between(old.createdAt(), old.expiresAt());
    CreatedToken successor = tokens.createToken(accountId, successorName, actor, lifetime, null, old.description());
    // a token rotated on a schedule hands the schedule on to its successor
    Optional<RotationSchedule> schedule = guard(() -> store.rotationSchedule(old.id()));
    if (schedule.isPresent()) {
      Instant now = clock.instant();
      guard(() -> {
        store.scheduleRotation(new RotationSchedule(successor.record().id(), accountId, successorName,
            schedule.get().every(), now.plus(schedule.get().every())));
        store.unscheduleRotation(old.id());
        return null;
      });
    }
    String id = "rot_" + HexFormat.of().formatHex(HandshakeCrypto.randomBytes(16));
    Rotation rotation = new Rotation(id, accountId, old.id(), old.publicId(), old.name(), successor.record().id(),
        successor.record().publicId(), successor.record().name(),
        sealAtRest(id, successor.record().publicId(), successor.value().reveal()), push, grace, Rotation.State.OPEN,
        clock.instant(), actor.name(), null, null);
    try {
      store.openRotation(rotation, actor, "rotation=" + id + " successor=" + successor.record().publicId()
          + " name=" + successorName + " grace=" + grace.toSeconds() + "s" + (push ? "" : " no_push"));
    } catch (DuplicateException e) {
      tokens.revoke(accountId, successorName, Actor.SYSTEM, "rotation of " + oldName + " not opened");
      throw Status.ALREADY_EXISTS.withDescription("token " + UserText.quote(oldName) + " has an open rotation"
          + " (opened at the same time elsewhere); the successor made here was revoked").asRuntimeException();
    } catch (StoreException e) {
      throw Status.UNAVAILABLE.withDescription("manager storage unavailable, retry later: " + e.getMessage())
          .asRuntimeException();
    }
    log.info(append("account", accountId).and(append("token_id", old.publicId())),
        "rotation {} opened by {}: token {} {} -> {} {}, grace {} s{}", id, actor.name(), UserText.quote(oldName),
        old.publicId(), UserText.quote(successorName), successor.record().publicId(), grace.toSeconds(),
        push ? "" : ", not pushed");
    refresh();
    if (push) {
      pushAll(rotation);
    }
    return new Opened(rotation, successor);
  }

  /**
   * Has the manager rotate {@code token} by itself every {@code every}, first at its creation plus
   * {@code every} (token create --rotate-every); returns when.
   */
  public Instant schedule(TokenRecord token, Duration every) {
    Instant next = token.createdAt().plus(every);
    guard(() -> {
      store.scheduleRotation(new RotationSchedule(token.id(), token.accountId(), token.name(), every, next));
      return null;
    });
    log.info(append("account", token.accountId()).and(append("token_id", token.publicId())),
        "token {} {} is rotated every {} s, first at {}", UserText.quote(token.name()), token.publicId(),
        every.toSeconds(), next);
    return next;
  }

  /** The latest rotation of the token, with its delegates. */
  public Report report(String accountId, String oldName) {
    TokenRecord old = tokens.token(accountId, oldName);
    Rotation rotation = guard(() -> store.latestRotationOf(old.id())).orElseThrow(() -> Status.NOT_FOUND
        .withDescription("token " + UserText.quote(oldName) + " of account " + UserText.quote(accountId)
            + " has never been rotated ('token rotate --account " + accountId + " --name " + oldName
            + "' starts one)").asRuntimeException());
    return report(rotation);
  }

  /** Ends the open rotation of the token: {@code finish} revokes the old token now, else it stays active. */
  public Report end(String accountId, String oldName, boolean finish, Actor actor) {
    Report current = report(accountId, oldName);
    Rotation rotation = current.rotation();
    if (!rotation.open()) {
      throw Status.FAILED_PRECONDITION.withDescription("the latest rotation of token " + UserText.quote(oldName)
          + " (" + rotation.id() + ") is already " + rotation.state().name().toLowerCase(java.util.Locale.ROOT)
          + " (at " + rotation.endedAt() + " by " + rotation.endedBy() + ")").asRuntimeException();
    }
    if (finish) {
      Optional<String> revokeFailed = finish(rotation, actor, "finished by " + actor.name());
      if (revokeFailed.isPresent()) {
        refresh();
        throw Status.UNAVAILABLE.withDescription(revokeFailed.get()).asRuntimeException();
      }
    } else {
      if (guard(() -> store.endRotation(rotation.id(), Rotation.State.CANCELLED, clock.instant(), actor,
          "token.rotate.cancel", "rotation=" + rotation.id() + " old token left active"))) {
        log.info("rotation {} of {} cancelled by {}; {} stays active", rotation.id(), rotation.oldTokenId(),
            actor.name(), rotation.oldTokenId());
      } else {
        // a finish (another command's, or a replica's) ended it first: the report shows which
        log.info("rotation {} of {} not cancelled by {}: it ended meanwhile", rotation.id(), rotation.oldTokenId(),
            actor.name());
      }
    }
    refresh();
    return report(accountId, oldName);
  }

  // ------------------------------------------------------------------ streams

  /**
   * A registered delegate stream, as rotations see it. The stream's own state (the stream service's
   * connection) is one, and rotations find a token's streams where the revocation registry keeps
   * them ({@link RevocationRegistry#forEachStreamOf}): a stream is one of them from its
   * registration ({@link LiveStream#trackerEntry} set) until its call is over (cleared), with no
   * object, set entry or end listener of the rotations' own for every connected delegate.
   */
  public interface Stream {
    LiveStream live();

    DelegateIdentity identity();

    /** The delegate's id (its row, written by its registration). */
    String delegateId();

    SuccessorSealer sealer();

    /** Sends {@code message} on the stream; rotations call it only while the stream is live. */
    void send(ManagerMessage message);

    /**
     * What rotations did on this stream: made by the first call with {@code create} (a rotation
     * handed to it, or its delegate's answer), null before that otherwise, since most streams never
     * see a rotation. Made once: every call after the first that made it returns the same object.
     */
    StreamRotations rotations(boolean create);
  }

  /** What rotations did on one stream (see {@link Stream#rotations}). */
  public static final class StreamRotations {
    /** Rotations sent on the stream, with when (System.nanoTime). */
    private final Map<String, Long> sent = new ConcurrentHashMap<>();
    /**
     * The answers taken on the stream (rotation id and outcome): a repeat costs neither a database
     * write nor a log line, so a delegate cannot flood either with one message over and over.
     */
    private final Set<String> answered = ConcurrentHashMap.newKeySet();
    /** Whether an answer to a rotation not open here was logged already on the stream. */
    private final AtomicBoolean strayLogged = new AtomicBoolean();

    /** True the first time only: one log line a stream for answers to rotations not open here. */
    private boolean firstStray() {
      return strayLogged.compareAndSet(false, true);
    }
  }

  /** When {@code rotationId} was sent on {@code stream} (System.nanoTime), or null if it was not. */
  private static Long sentAt(Stream stream, String rotationId) {
    StreamRotations done = stream.rotations(false);
    return done == null ? null : done.sent.get(rotationId);
  }

  /**
   * A delegate stream registered (and live, and found by {@link #streamsOf} from now on): it is handed
   * the successor of every open rotation of its token that pushes.
   */
  public void registered(Stream stream) {
    for (Rotation rotation : openRotations) {
      if (rotation.push() && rotation.oldTokenRow() == stream.identity().tokenRow()) {
        // reads the successor and records the send: off the stream's thread
        later("hand the successor to delegate " + stream.delegateId(), () -> push(rotation, List.of(stream)));
      }
    }
  }

  /** The registered streams of a token on this manager now: those a rotation hands its successor to. */
  List<Stream> streamsOf(long tokenRow) {
    List<Stream> found = new ArrayList<>();
    streams.forEachStreamOf(tokenRow, live -> {
      if (live.trackerEntry() instanceof Stream stream) {
        found.add(stream);
      }
    });
    return found;
  }

  /** Runs {@code work} on {@link #streamWork}; at a stop, when that takes nothing more, drops it. */
  private void later(String what, Runnable work) {
    try {
      streamWork.execute(work);
    } catch (RejectedExecutionException stopping) {
      log.debug("rotation work not done, the manager is stopping: {}", what);
    }
  }

  private void pushAll(Rotation rotation) {
    push(rotation, streamsOf(rotation.oldTokenRow()));
  }

  /**
   * Hands the successor to those of {@code streams} not handed it yet. The successor's state is read
   * and its value opened once for all of them.
   */
  private void push(Rotation rotation, Collection<Stream> streams) {
    // claimed first: the tick and a registration may push to the same stream at once
    List<Stream> claimed = new ArrayList<>();
    for (Stream stream : streams) {
      if (stream.rotations(true).sent.putIfAbsent(rotation.id(), System.nanoTime()) == null) {
        claimed.add(stream);
      }
    }
    if (claimed.isEmpty()) {
      return;
    }
    String value;
    try {
      if (!successorActive(rotation)) {
        // revoked, expired or deleted: a delegate would overwrite its good token with a dead one
        unclaim(rotation, claimed);
        return;
      }
      value = openAtRest(rotation);
    } catch (StoreException e) {
      unclaim(rotation, claimed);
      log.warn("rotation {}: could not read the successor {}, not pushed (the next tick tries again): {}",
          rotation.id(), rotation.successorTokenId(), e.getMessage());
      return;
    } catch (GeneralSecurityException e) {
      unclaim(rotation, claimed);
      log.error("rotation {}: the stored successor does not open under this manager's master key (another"
          + " master.key than the replica that opened it?); not pushed", rotation.id());
      return;
    }
    byte[] plain = value.getBytes(UTF_8);
    for (Stream stream : claimed) {
      byte[] sealed = stream.sealer().seal(rotation.id(), rotation.successorTokenId(), plain);
      ManagerMessage message = ManagerMessage.newBuilder().setRotateToken(RotateToken.newBuilder()
          .setRotationId(rotation.id())
          .setSuccessorTokenId(rotation.successorTokenId())
          .setSealedSuccessor(com.google.protobuf.ByteString.copyFrom(sealed))).build();
      Map<String, Long> sent = stream.rotations(true).sent;
      sent.put(rotation.id(), System.nanoTime());
      // written before the send: a delegate's answer can arrive before this thread goes on, and must
      // not be overwritten by the mark
      record(rotation.id(), stream.delegateId(), RotationDelegate.Outcome.SENT, null);
      if (!stream.live().acceptIfLive(() -> stream.send(message))) {
        sent.remove(rotation.id());
        continue;
      }
      log.info("rotation {}: successor {} sent to delegate {} ({})", rotation.id(), rotation.successorTokenId(),
          stream.delegateId(), UserText.quote(stream.identity().delegateName()));
    }
  }

  private static void unclaim(Rotation rotation, List<Stream> claimed) {
    claimed.forEach(stream -> stream.rotations(true).sent.remove(rotation.id()));
  }

  /** The delegate's answer to a RotateToken, or its report of a move, received on {@code stream}. */
  public void received(Stream stream, RotationResult result) {
    Rotation rotation = openRotations.stream().filter(r -> r.id().equals(result.getRotationId())).findFirst()
        .orElse(null);
    if (rotation == null || !rotation.accountId().equals(stream.identity().accountId())) {
      if (stream.rotations(true).firstStray()) {
        log.info("delegate {} answered rotation {}, which is not open here; ignored (and any more such on this"
            + " stream)", stream.delegateId(), UserText.quote(result.getRotationId()));
      }
      return;
    }
    if (!stream.rotations(true).answered.add(rotation.id() + " " + result.getOutcome())) {
      return;
    }
    String reason = reason(result.getReason());
    switch (result.getOutcome()) {
      case MOVED -> {
        if (!stream.identity().tokenPublicId().equals(rotation.successorTokenId())) {
          log.warn("delegate {} reported MOVED for rotation {} on a stream of token {}, not of the successor;"
              + " ignored", stream.delegateId(), rotation.id(), stream.identity().tokenPublicId());
          return;
        }
        recordLater(rotation.id(), stream.delegateId(), RotationDelegate.Outcome.MOVED, null);
        log.info("rotation {}: delegate {} ({}) moved to {}", rotation.id(), stream.delegateId(),
            UserText.quote(stream.identity().delegateName()), rotation.successorTokenId());
      }
      case CANNOT_KEEP, FAILED -> {
        if (sentAt(stream, rotation.id()) == null) {
          log.warn("delegate {} answered rotation {} on a stream it was not sent on; ignored", stream.delegateId(),
              rotation.id());
          return;
        }
        RotationDelegate.Outcome outcome = result.getOutcome() == RotationResult.Outcome.CANNOT_KEEP
            ? RotationDelegate.Outcome.CANNOT_KEEP : RotationDelegate.Outcome.FAILED;
        recordLater(rotation.id(), stream.delegateId(), outcome, reason);
        log.warn("rotation {}: delegate {} ({}) {}: {}", rotation.id(), stream.delegateId(),
            UserText.quote(stream.identity().delegateName()),
            outcome == RotationDelegate.Outcome.CANNOT_KEEP ? "cannot keep the successor" : "failed to move", reason);
      }
      default -> log.warn("delegate {} sent rotation result {} for {}; ignored", stream.delegateId(),
          result.getOutcomeValue(), rotation.id());
    }
  }

  // ------------------------------------------------------------------ periodic

  /**
   * Every second on every replica: reads the open rotations, pushes them to streams that registered
   * meanwhile (another replica opened the rotation, or this one restarted), counts unanswered
   * delegates as unable to keep the successor, and finishes rotations whose delegates have all moved
   * once their grace period is over.
   */
  public void tick() {
    retryOwedRevokes();
    refresh();
    try {
      scheduled();
    } catch (StoreException e) {
      log.warn("could not read the rotation schedules: {}", e.getMessage());
    }
    long noAnswer = System.nanoTime() - timing.noAnswerAfter().toNanos();
    for (Rotation rotation : openRotations) {
      try {
        if (!successorActive(rotation)) {
          cancelForDeadSuccessor(rotation);
          continue;
        }
      } catch (StoreException e) {
        log.warn("rotation {}: could not read the successor {}: {}", rotation.id(), rotation.successorTokenId(),
            e.getMessage());
        continue;
      }
      if (rotation.push()) {
        pushAll(rotation);
        for (Stream stream : streamsOf(rotation.oldTokenRow())) {
          Long sentAt = sentAt(stream, rotation.id());
          if (sentAt != null && sentAt - noAnswer < 0
              && stream.rotations(true).sent.replace(rotation.id(), sentAt, Long.MAX_VALUE)) {
            // Long.MAX_VALUE: counted once; a late answer still replaces it
            recordIfStill(rotation.id(), stream.delegateId(), RotationDelegate.Outcome.NO_ANSWER,
                "no answer within " + timing.noAnswerAfter().toSeconds() + " s: the delegate does not support rotation"
                    + " (an older version?)");
          }
        }
      }
      if (!clock.instant().isBefore(rotation.openedAt().plus(rotation.grace()))
          && System.nanoTime() - startedNanos - timing.settle().toNanos() >= 0 && holdouts(rotation).isEmpty()) {
        finish(rotation, Actor.SYSTEM, "every delegate that was connected moved");
      }
    }
    // last: a fallback, whose revokes (each waiting for the other replicas' confirmations) should not
    // hold up this tick's rotations
    revokeLeftOverOldTokens();
  }

  /** Opens the rotations whose schedule has come, one replica each (the one that moves the schedule on). */
  private void scheduled() {
    Instant now = clock.instant();
    for (RotationSchedule due : store.dueRotations(now)) {
      Optional<TokenRecord> token = store.findToken(due.accountId(), due.tokenName())
          .filter(t -> t.id() == due.tokenRow());
      if (token.isEmpty() || !token.get().active()) {
        store.unscheduleRotation(due.tokenRow());
        continue;
      }
      boolean open = openRotations.stream().anyMatch(r -> r.oldTokenRow() == due.tokenRow());
      if (!store.claimScheduledRotation(due.tokenRow(), due.nextAt(), now.plus(due.every())) || open) {
        continue;
      }
      try {
        open(due.accountId(), due.tokenName(), null, DEFAULT_GRACE, true, Actor.SYSTEM);
      } catch (StatusRuntimeException e) {
        log.warn("scheduled rotation of token {} of account {} not opened: {}", UserText.quote(due.tokenName()),
            due.accountId(), e.getStatus().getDescription());
      }
    }
  }

  private void refresh() {
    try {
      openRotations = List.copyOf(store.openRotations());
    } catch (StoreException e) {
      log.warn("could not read the open rotations: {}", e.getMessage());
    }
  }

  /**
   * Finishes {@code rotation} (unless it ended meanwhile) and revokes its old token; returns why that
   * revoke did not commit (it is then retried every tick), or nothing.
   */
  private Optional<String> finish(Rotation rotation, Actor actor, String why) {
    String reason = revokeReason(rotation, why);
    // claimed before the revoke: a cancel (or another replica's finish) that ended the rotation since
    // it was read wins, and the old token of a cancelled rotation stays active
    if (!guard(() -> store.endRotation(rotation.id(), Rotation.State.FINISHED, clock.instant(), actor,
        "token.rotate.finish", "rotation=" + rotation.id() + " " + why))) {
      return Optional.empty();
    }
    OwedRevoke owed = new OwedRevoke(rotation, actor, reason, why);
    try {
      revokeOld(owed);
    } catch (StatusRuntimeException e) {
      // the rotation is finished: its old token must end, so the revoke is retried every tick
      revokesOwed.put(rotation.id(), owed);
      log.warn("rotation {} finished ({}), but revoking its old token {} failed: {}; retried every second until it"
          + " commits", rotation.id(), why, rotation.oldTokenId(), e.getStatus().getDescription());
      return Optional.of("rotation " + rotation.id() + " is finished, but revoking the old token "
          + rotation.oldTokenId() + " failed (" + e.getStatus().getDescription() + "); this manager retries the revoke"
          + " every second until it commits ('token list' shows the token revoked then), and should it stop first, the"
          + " next manager to run revokes it");
    }
    return Optional.empty();
  }

  /** A finished rotation's revoke of its old token, owed until it commits (see {@link #revokesOwed}). */
  private record OwedRevoke(Rotation rotation, Actor actor, String reason, String why) { }

  /**
   * Revokes the old token of a finished rotation; done too if it has ended already (an operator
   * revoked or deleted it). Throws the revoke's status when it did not commit.
   */
  private void revokeOld(OwedRevoke owed) {
    Rotation rotation = owed.rotation();
    int closed = 0;
    try {
      // by name, so only while that name still holds the old token (not a new one made after a
      // delete), checked on the same read the revoke ends the token by
      RevokeResult revoked = tokens.revoke(rotation.accountId(), rotation.oldTokenName(), rotation.oldTokenId(),
          owed.actor(), owed.reason());
      closed = revoked.streamsClosed();
    } catch (StatusRuntimeException e) {
      if (e.getStatus().getCode() != Status.Code.FAILED_PRECONDITION && e.getStatus().getCode() != Status.Code.NOT_FOUND) {
        throw e;
      }
      // revoked, expired or deleted already (an operator revoked it)
    }
    log.info("rotation {} finished ({}): token {} revoked, {} streams closed", rotation.id(), owed.why(),
        rotation.oldTokenId(), closed);
  }

  /** The old token's revoke reason (at most 256 characters: names are at most 64, ids 40). */
  private static String revokeReason(Rotation rotation, String why) {
    return "rotated to " + rotation.successorTokenName() + " (" + rotation.successorTokenId() + ") by rotation "
        + rotation.id() + ", " + why;
  }

  /**
   * Revokes, as the manager itself, the old tokens of rotations that finished at least
   * {@link #LEFT_OVER_AFTER} ago and are still active: the manager that finished them could not
   * commit the revoke and stopped before its retry did (or the database answered it only after).
   * Those this manager retries itself are left to that retry, which revokes as the finishing actor.
   */
  private void revokeLeftOverOldTokens() {
    List<Rotation> leftOver;
    try {
      Instant now = clock.instant();
      leftOver = store.finishedWithOldTokenActive(now.minus(LEFT_OVER_AFTER), now);
    } catch (StoreException e) {
      log.debug("could not read the finished rotations: {}", e.getMessage());
      return;
    }
    // one that ended otherwise (an operator's revoke, another replica's) is forgotten
    leftOverWarned.retainAll(leftOver.stream().map(Rotation::id).toList());
    for (Rotation rotation : leftOver) {
      if (revokesOwed.containsKey(rotation.id())) {
        continue;
      }
      boolean first = leftOverWarned.add(rotation.id());
      if (first) {
        log.warn("rotation {} finished at {} (by {}), but its old token {} is still active: the manager that"
            + " finished it did not commit the revoke; revoking it now", rotation.id(), rotation.endedAt(),
            UserText.quote(rotation.endedBy()), rotation.oldTokenId());
      }
      String why = "finished at " + rotation.endedAt() + ", its revoke left over";
      try {
        revokeOld(new OwedRevoke(rotation, Actor.SYSTEM, revokeReason(rotation, why), why));
        leftOverWarned.remove(rotation.id());
      } catch (StatusRuntimeException e) {
        if (first) {
          log.warn("rotation {}: revoking the old token {} failed: {}; tried again every second", rotation.id(),
              rotation.oldTokenId(), e.getStatus().getDescription());
        }
      }
    }
  }

  /** Retries the revokes owed by rotations finished here whose revoke failed. */
  private void retryOwedRevokes() {
    for (OwedRevoke owed : List.copyOf(revokesOwed.values())) {
      try {
        revokeOld(owed);
        revokesOwed.remove(owed.rotation().id());
      } catch (StatusRuntimeException e) {
        log.debug("rotation {}: revoking the old token {} failed again: {}", owed.rotation().id(),
            owed.rotation().oldTokenId(), e.getStatus().getDescription());
      }
    }
  }

  /** Whether the successor can still be handed out: not revoked, expired or deleted. */
  private boolean successorActive(Rotation rotation) {
    return store.findTokenByPublicId(rotation.accountId(), rotation.successorTokenId()).filter(TokenRecord::active)
        .isPresent();
  }

  /** A rotation whose successor was revoked, expired or deleted cannot finish: it ends, the old token left active. */
  private void cancelForDeadSuccessor(Rotation rotation) {
    if (guard(() -> store.endRotation(rotation.id(), Rotation.State.CANCELLED, clock.instant(), Actor.SYSTEM,
        "token.rotate.cancel", "rotation=" + rotation.id() + " successor " + rotation.successorTokenId()
            + " no longer active; old token left active"))) {
      log.warn("rotation {} of {} cancelled: its successor {} was revoked, expired or deleted; {} stays active",
          rotation.id(), rotation.oldTokenId(), rotation.successorTokenId(), rotation.oldTokenId());
    }
  }

  // ------------------------------------------------------------------ reports

  private Report report(Rotation rotation) {
    Map<String, RotationDelegate> outcomes = new LinkedHashMap<>();
    for (RotationDelegate d : guard(() -> store.rotationDelegates(rotation.id()))) {
      outcomes.put(d.delegateId(), d);
    }
    List<DelegateState> states = new ArrayList<>();
    for (DelegateRecord d : guard(() -> store.listDelegates(rotation.accountId()))) {
      RotationDelegate outcome = outcomes.get(d.id());
      boolean onOld = d.tokenPublicId().equals(rotation.oldTokenId());
      if (outcome == null && !onOld) {
        continue;
      }
      if (outcome != null) {
        states.add(new DelegateState(d, outcome.outcome().name(), outcome.reason(), outcome.at()));
      } else {
        states.add(new DelegateState(d, d.connected() ? "NOT_SENT" : "NOT_CONNECTED", null, null));
      }
    }
    return new Report(rotation, states);
  }

  /**
   * The delegates that keep a rotation from finishing by itself: those connected with the old token
   * now, and those that were handed the successor and are still recorded with the old token (they
   * could not keep it, failed, did not answer, or are away for the moment: a restart, a network
   * cut), so that a delegate that said "cannot keep" is not cut while it happens to be reconnecting.
   */
  private List<DelegateRecord> holdouts(Rotation rotation) {
    Set<String> handed = new HashSet<>();
    for (RotationDelegate d : guard(() -> store.rotationDelegates(rotation.id()))) {
      if (d.outcome() != RotationDelegate.Outcome.MOVED) {
        handed.add(d.delegateId());
      }
    }
    return guard(() -> store.listDelegates(rotation.accountId())).stream()
        .filter(d -> d.tokenPublicId().equals(rotation.oldTokenId()) && (d.connected() || handed.contains(d.id())))
        .toList();
  }

  // ------------------------------------------------------------------ helpers

  private void record(String rotationId, String delegateId, RotationDelegate.Outcome outcome, String reason) {
    try {
      store.recordRotationDelegate(new RotationDelegate(rotationId, delegateId, outcome, reason, clock.instant()));
    } catch (StoreException e) {
      log.warn("rotation {}: could not record {} for delegate {}: {}", rotationId, outcome, delegateId, e.getMessage());
    }
  }

  /** Records a delegate's answer on {@link #streamWork}, after whatever the tick recorded for it. */
  private void recordLater(String rotationId, String delegateId, RotationDelegate.Outcome outcome, String reason) {
    later("record " + outcome + " for delegate " + delegateId,
        () -> record(rotationId, delegateId, outcome, reason));
  }

  /** Records {@code outcome} unless the delegate has answered meanwhile. */
  private void recordIfStill(String rotationId, String delegateId, RotationDelegate.Outcome outcome, String reason) {
    boolean answered = guard(() -> store.rotationDelegates(rotationId)).stream()
        .anyMatch(d -> d.delegateId().equals(delegateId) && d.outcome() != RotationDelegate.Outcome.SENT);
    if (!answered) {
      record(rotationId, delegateId, outcome, reason);
    }
  }

  /** The default successor name: OLD-r2 for OLD, OLD-r3 for OLD-r2, and so on. */
  static String successorName(String oldName) {
    Matcher m = ROTATION_SUFFIX.matcher(oldName);
    String name = m.matches() ? m.group(1) + "-r" + (Long.parseLong(m.group(2)) + 1) : oldName + "-r2";
    if (name.length() > Names.MAX_TOKEN_NAME) {
      throw Status.INVALID_ARGUMENT.withDescription("the successor's default name " + UserText.quote(name) + " is"
          + " longer than " + Names.MAX_TOKEN_NAME + " characters: give one with --new-name").asRuntimeException();
    }
    return name;
  }

  /** A delegate's reason as stored and shown: text of at most {@value #MAX_REASON} code points. */
  static String reason(String text) {
    if (text == null || text.isEmpty()) {
      return null;
    }
    Optional<String> problem = UserText.problem("reason", text, 0, MAX_REASON);
    return problem.isPresent() ? "(the delegate's reason was refused: " + problem.get() + ")" : text;
  }

  private String sealAtRest(String rotationId, String successorId, String value) {
    return BASE64.encode(RotationCrypto.seal(sealingKey, AT_REST, rotationId, successorId, value.getBytes(UTF_8)));
  }

  private String openAtRest(Rotation rotation) throws GeneralSecurityException {
    return new String(RotationCrypto.open(sealingKey, AT_REST, rotation.id(), rotation.successorTokenId(),
        BASE64.decode(rotation.sealedSuccessor())), UTF_8);
  }

  private static <T> T guard(java.util.function.Supplier<T> work) {
    try {
      return work.get();
    } catch (StoreException e) {
      throw Status.UNAVAILABLE.withDescription("manager storage unavailable, retry later: " + e.getMessage())
          .asRuntimeException();
    }
  }
}
