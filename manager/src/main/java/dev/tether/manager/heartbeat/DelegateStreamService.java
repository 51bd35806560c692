package dev.tether.manager.heartbeat;

import static dev.tether.common.text.UserText.quote;
import static net.logstash.logback.marker.Markers.append;

import dev.tether.common.text.UserText;
import dev.tether.manager.auth.AuthContext;
import dev.tether.manager.auth.DelegateIdentity;
import dev.tether.manager.auth.SuccessorSealer;
import dev.tether.manager.metrics.ManagerMetrics;
import dev.tether.manager.revocation.LiveStream;
import dev.tether.manager.rotation.RotationService;
import dev.tether.manager.store.DelegateIds;
import dev.tether.manager.store.DelegateRecord;
import dev.tether.manager.store.StoreClosedException;
import dev.tether.manager.store.StoreException;
import dev.tether.manager.store.TetherStore;
import dev.tether.proto.delegate.v1.DelegateMessage;
import dev.tether.proto.delegate.v1.DelegateStreamGrpc;
import dev.tether.proto.delegate.v1.HeartbeatAck;
import dev.tether.proto.delegate.v1.ManagerMessage;
import dev.tether.proto.delegate.v1.Register;
import dev.tether.proto.delegate.v1.Registered;
import io.grpc.BindableService;
import io.grpc.Grpc;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerServiceDefinition;
import io.grpc.Status;
import java.net.SocketAddress;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executor;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ForkJoinTask;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The delegate's long-lived stream: Register first, then heartbeats, each acknowledged; Goodbye
 * before a clean stop. Runs only on calls the session interceptor authenticated. Every text field
 * of Register is checked with {@link UserText} before anything is stored, and every user-supplied
 * text in a log line is {@linkplain UserText#quote quoted}.
 */
public final class DelegateStreamService implements BindableService {

  private static final Logger log = LoggerFactory.getLogger(DelegateStreamService.class);
  static final int MAX_HOSTNAME = 255;
  static final int MAX_LABEL = 64;
  static final int MAX_TAGS = 64;
  static final int MAX_TAG_CHARACTERS = 1024;
  /** About 100 KiB of acknowledgements beyond what gRPC holds before it says the client is behind. */
  static final int MAX_SENT_WHILE_NOT_READY = 4096;
  static final Status NOT_READING = Status.RESOURCE_EXHAUSTED.withDescription(
      "delegate does not read its stream (acknowledgements are piling up); reconnect");

  private final TetherStore store;
  private final DelegateTracker tracker;
  private final Clock clock;
  private final HeartbeatSettings settings;
  private final String replicaId;
  private final ManagerMetrics metrics;
  private final RotationService rotations;

  public DelegateStreamService(TetherStore store, DelegateTracker tracker, Clock clock,
      HeartbeatSettings settings, String replicaId, ManagerMetrics metrics) {
    this(store, tracker, clock, settings, replicaId, metrics, null);
  }

  /** With {@code rotations} handing successor tokens to the streams (null: no rotation). */
  public DelegateStreamService(TetherStore store, DelegateTracker tracker, Clock clock,
      HeartbeatSettings settings, String replicaId, ManagerMetrics metrics, RotationService rotations) {
    this.rotations = rotations;
    this.metrics = metrics;
    this.replicaId = replicaId;
    this.store = store;
    this.tracker = tracker;
    this.clock = clock;
    this.settings = settings;
  }

  /**
   * The service's one method, {@code Connect}, handled without gRPC's stub layer: the stream's
   * {@link Connection} is the call's listener and sends on the revocable call itself, rather than
   * through a stub's listener and response observer kept for every connected delegate.
   */
  @Override
  public ServerServiceDefinition bindService() {
    return ServerServiceDefinition.builder(DelegateStreamGrpc.getServiceDescriptor())
        .addMethod(DelegateStreamGrpc.getConnectMethod(), this::connect)
        .build();
  }

  private ServerCall.Listener<DelegateMessage> connect(ServerCall<DelegateMessage, ManagerMessage> call,
      Metadata headers) {
    // the authenticated call is in the context only now, as the call starts: the connection takes
    // all it needs from it here (AuthContext); the call handed here is that revocable call
    return new Connection(AuthContext.liveStream(), AuthContext.sealer());
  }

  /**
   * One delegate's stream: the call's listener. It is also the tracker's entry for it
   * ({@link DelegateTracker.Entry}) and the stream as rotations see it ({@link RotationService.Stream}),
   * rather than an object of each's own made for every stream. It sends on the revocable call
   * ({@link LiveStream}), which sends the call's headers with its first message.
   *
   * <p>One is kept for every connected delegate, so it keeps what it needs and no more: the session
   * (which seals successor tokens) also says whose stream it is, the remote address is read from
   * the call's transport when a log line names it, and the delegate's id is kept as two numbers
   * ({@link DelegateIds}).
   */
  private final class Connection extends DelegateTracker.Entry implements RotationService.Stream {
    private final LiveStream live;
    /** The stream's session: it seals the successor tokens handed on it, and says who the delegate is. */
    private final SuccessorSealer session;
    /**
     * The delegate's id, set once its registration is committed, on the pool thread that goes on
     * from the commit: its two numbers, or its text when it has none ({@link DelegateIds#compact}),
     * written before {@link #idSet}.
     */
    private long idHigh;
    private long idLow;
    private String idText;
    private volatile boolean idSet;
    /** What rotations did on this stream, once one did (see {@link #rotations}); guarded by this. */
    private RotationService.StreamRotations rotations;
    /** Acknowledgements sent while gRPC was already holding 32 KiB unread for the client. */
    private volatile int sentWhileNotReady;

    Connection(LiveStream live, SuccessorSealer session) {
      this.session = session;
      this.live = live;
      // one message at a time, each asked for once the one before is handled: the message after a
      // Register arrives only once the Register's row is committed, without a thread held meanwhile
      live.request(1);
    }

    @Override
    public void onMessage(DelegateMessage message) {
      switch (message.getKindCase()) {
        case REGISTER -> {
          register(message.getRegister());
          return; // the next message is asked for once the registration is done
        }
        case HEARTBEAT -> heartbeat(message.getHeartbeat().getSequence());
        case GOODBYE -> {
          log.info("delegate {} ({}) says goodbye: {}", quote(identity().delegateName()), delegateId(),
              quote(message.getGoodbye().getReason()));
          live.closeWith(Status.OK.withDescription("goodbye"));
        }
        case ROTATION_RESULT -> {
          // a message after Register arrives only once this stream is registered (see register)
          if (!idSet) {
            live.closeWith(Status.FAILED_PRECONDITION.withDescription("RotationResult before Register"));
          } else if (DelegateStreamService.this.rotations != null) {
            DelegateStreamService.this.rotations.received(this, message.getRotationResult());
          }
        }
        default -> live.closeWith(Status.INVALID_ARGUMENT.withDescription("empty delegate message"));
      }
      live.request(1);
    }

    private void register(Register r) {
      long received = System.nanoTime();
      if (idSet) {
        live.closeWith(Status.FAILED_PRECONDITION.withDescription("Register sent twice on one stream"));
        return;
      }
      Optional<String> problem = invalid(r);
      if (problem.isPresent()) {
        log.warn("refused Register of delegate {} from {}: {}", quote(identity().delegateName()),
            remoteAddress(), problem.get());
        live.closeWith(Status.INVALID_ARGUMENT.withDescription("invalid Register: " + problem.get()));
        return;
      }
      if (live.closeStatus() != null) {
        // closed already (a revoke, a stop): no row to write as connected
        return;
      }
      Instant now = clock.instant();
      // registrations arriving together share a commit; none holds one of the pool's threads while
      // it runs (a herd of them once held as many threads as were waiting, and a ForkJoinPool's
      // spare threads for waiting tasks do not keep a thread a core free for the heartbeats that
      // arrive later); the rest of the registration runs on this pool once the row is committed
      Executor pool = Objects.requireNonNullElseGet(ForkJoinTask.getPool(), ForkJoinPool::commonPool);
      CompletableFuture<String> written;
      try {
        written = store.delegateConnected(new DelegateRecord(null, identity().accountId(),
            identity().delegateName(), r.getHostname(), r.getDelegateType(), r.getVersion(),
            List.copyOf(r.getTagsList()), r.getIp(), identity().tokenPublicId(), identity().tokenName(),
            true, now, now, now, null, null, replicaId));
      } catch (RuntimeException e) {
        written = CompletableFuture.failedFuture(e);
      }
      written.whenCompleteAsync((id, failure) -> {
        try {
          if (failure != null) {
            notRecorded(failure instanceof CompletionException && failure.getCause() != null
                ? failure.getCause() : failure);
          } else if (registered(r, id, now, received)) {
            live.request(1);
          }
        } catch (Throwable e) {
          // as gRPC ends a call whose handler throws (nothing else would end this one), then says
          // why: the future this runs in keeps what is thrown here to itself
          live.closeWith(Status.INTERNAL.withDescription("registration failed"));
          log.error("registration of delegate {} ({}) failed", quote(identity().delegateName()), id, e);
        }
      }, pool);
    }

    private void notRecorded(Throwable failure) {
      if (live.closeStatus() != null) {
        // closed while it waited (a stop refuses the registrations still waiting): nothing to record
        log.debug("registration of delegate {} not written: {}", quote(identity().delegateName()), failure.getMessage());
        return;
      }
      if (failure instanceof StoreClosedException) {
        // the manager is stopping: refused before its streams are closed (see Manager.close)
        log.debug("registration of delegate {} not written: the manager is stopping", quote(identity().delegateName()));
        live.closeWith(Status.UNAVAILABLE.withDescription("manager shutting down"));
        return;
      }
      if (failure instanceof StoreException) {
        log.error("could not record delegate {}: {}", quote(identity().delegateName()), failure.getMessage());
      } else {
        log.error("could not record delegate {}", quote(identity().delegateName()), failure);
      }
      live.closeWith(Status.UNAVAILABLE.withDescription("manager storage unavailable, retry later"));
    }

    /**
     * With the row committed as {@code id}: whether the stream is still live and told it is
     * registered ({@code received}: when its Register arrived, by {@link System#nanoTime()}).
     */
    private boolean registered(Register r, String id, Instant now, long received) {
      Objects.requireNonNull(id, "the store wrote the delegate's row without an id");
      if (DelegateIds.compact(id)) {
        idHigh = DelegateIds.high(id);
        idLow = DelegateIds.low(id);
      } else {
        idText = id;
      }
      idSet = true;
      boolean sent = live.acceptRegistration(() -> {
        tracker.connected(live, this, now);
        // counted before it is sent: a delegate told Registered finds its registration counted
        metrics.registered(System.nanoTime() - received);
        try {
          live.sendMessage(ManagerMessage.newBuilder()
              .setRegistered(Registered.newBuilder()
                  .setDelegateId(id)
                  .setHeartbeatIntervalMs((int) settings.interval().toMillis()))
              .build());
        } catch (RuntimeException e) {
          // closed before the stream's lock is let go: the stream is registered with the tracker
          // now, and nothing (a rotation's RotateToken) may be sent on it without its Registered
          live.closeWith(Status.INTERNAL.withDescription("registration failed"));
          throw e;
        }
      });
      if (!sent) {
        // not registered: closed while the row was being written (a revoke, a stop), over (the
        // delegate went away), or its token fenced by a revoke still committing, which closes it
        // (see LiveStream.acceptRegistration). Nobody else records this stream's end: it is
        // recorded when the call ends, with how it was closed.
        live.onEnd(ended -> tracker.endedBeforeRegistration(id, now, ended.closeStatus()));
        return false;
      }
      if (DelegateStreamService.this.rotations != null) {
        DelegateStreamService.this.rotations.registered(this);
      }
      log.info(append("account", identity().accountId()).and(append("token_id", identity().tokenPublicId()))
          .and(append("delegate_id", id)),
          "delegate connected: account {} delegate {} host {} from {} (id {}), token {} {}",
          identity().accountId(), quote(identity().delegateName()), quote(r.getHostname()), remoteAddress(), id,
          identity().tokenPublicId(), quote(identity().tokenName()));
      return true;
    }

    private void heartbeat(long sequence) {
      long received = System.nanoTime();
      if (!idSet) {
        live.closeWith(Status.FAILED_PRECONDITION.withDescription("Heartbeat before Register"));
        return;
      }
      if (live.closeStatus() != null) {
        // closed here already (not reading, revoked, ...): what still arrives is dropped
        return;
      }
      if (!live.isReady() && ++sentWhileNotReady > MAX_SENT_WHILE_NOT_READY) {
        // the delegate does not read what it is sent: gRPC holds 32 KiB for it and it is further
        // behind by thousands of acknowledgements, every one of which would stay in this manager's
        // memory (one such stream filled a 256 MB heap in 40 s)
        log.warn("delegate {} ({}) from {} does not read its stream; closing it", quote(identity().delegateName()),
            delegateId(), remoteAddress());
        live.closeWith(NOT_READING);
        return;
      }
      live.acceptHeartbeat(() -> {
        tracker.heartbeat(live);
        live.sendMessage(ManagerMessage.newBuilder()
            .setHeartbeatAck(HeartbeatAck.newBuilder()
                .setSequence(sequence)
                .setReceivedAtUnixMs(clock.millis()))
            .build());
        metrics.heartbeat(received, System.nanoTime());
      });
    }

    /** The delegate's id once its registration is committed; null before. */
    @Override
    public String delegateId() {
      if (!idSet) {
        return null;
      }
      return idText != null ? idText : DelegateIds.text(idHigh, idLow);
    }

    @Override
    public DelegateIdentity identity() {
      return session.identity();
    }

    @Override
    String accountId() {
      return identity().accountId();
    }

    /** The stream is ready for more: the client read what it was sent, and what was sent while it lagged has gone. */
    @Override
    public void onReady() {
      sentWhileNotReady = 0;
    }

    /** Sends {@code message} on the stream (for rotations); dropped once the call is closed or cancelled. */
    @Override
    public void send(ManagerMessage message) {
      live.sendMessage(message);
    }

    @Override
    public LiveStream live() {
      return live;
    }

    @Override
    public SuccessorSealer sealer() {
      return session;
    }

    @Override
    public synchronized RotationService.StreamRotations rotations(boolean create) {
      if (rotations == null && create) {
        rotations = new RotationService.StreamRotations();
      }
      return rotations;
    }

    /** The connection's remote address, for logs: the transport's own object, kept by the transport. */
    private String remoteAddress() {
      SocketAddress remote = live.getAttributes().get(Grpc.TRANSPORT_ATTR_REMOTE_ADDR);
      return remote == null ? "unknown" : remote.toString();
    }

    // onCancel, onComplete: the call is over (the delegate went away, or its close was sent); the
    // interceptor unregisters the stream, and the tracker and the rotations record its end

    @Override
    public void onHalfClose() {
      live.closeWith(Status.OK.withDescription("delegate closed the stream"));
    }
  }

  /**
   * The first problem of a Register, naming the field: the rules of docs/protocol.md §6, lengths
   * in code points, no refused character (see {@link UserText}) in any field.
   */
  private static Optional<String> invalid(Register r) {
    Optional<String> problem = UserText.problem("hostname", r.getHostname(), 1, MAX_HOSTNAME)
        .or(() -> UserText.problem("delegate_type", r.getDelegateType(), 0, MAX_LABEL))
        .or(() -> UserText.problem("version", r.getVersion(), 0, MAX_LABEL))
        .or(() -> UserText.problem("ip", r.getIp(), 0, MAX_LABEL));
    if (problem.isPresent()) {
      return problem;
    }
    if (r.getTagsCount() > MAX_TAGS) {
      return Optional.of("tags has " + r.getTagsCount() + " entries (expected at most " + MAX_TAGS + ")");
    }
    int tagCharacters = 0;
    for (int i = 0; i < r.getTagsCount(); i++) {
      String tag = r.getTags(i);
      Optional<String> tagProblem = UserText.problem("tags[" + i + "]", tag, 1, MAX_TAG_CHARACTERS);
      if (tagProblem.isPresent()) {
        return tagProblem;
      }
      if (tag.contains(",")) {
        return Optional.of("tags[" + i + "] contains a comma (expected one tag per entry)");
      }
      tagCharacters += UserText.length(tag) + 1;
    }
    if (tagCharacters > MAX_TAG_CHARACTERS) {
      return Optional.of("tags have " + tagCharacters + " characters with one separator each (expected at most "
          + MAX_TAG_CHARACTERS + ", counted as Unicode code points)");
    }
    return Optional.empty();
  }
}
