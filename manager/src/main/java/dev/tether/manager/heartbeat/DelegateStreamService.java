package dev.tether.manager.heartbeat;

import dev.tether.manager.auth.AuthContext;
import dev.tether.manager.auth.DelegateIdentity;
import dev.tether.manager.revocation.LiveStream;
import dev.tether.manager.store.DelegateRecord;
import dev.tether.manager.store.StoreException;
import dev.tether.manager.store.TetherStore;
import dev.tether.proto.delegate.v1.DelegateMessage;
import dev.tether.proto.delegate.v1.DelegateStreamGrpc;
import dev.tether.proto.delegate.v1.HeartbeatAck;
import dev.tether.proto.delegate.v1.ManagerMessage;
import dev.tether.proto.delegate.v1.Register;
import dev.tether.proto.delegate.v1.Registered;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The delegate's long-lived stream: Register first, then heartbeats, each acknowledged; Goodbye
 * before a clean stop. Runs only on calls the session interceptor authenticated.
 */
public final class DelegateStreamService extends DelegateStreamGrpc.DelegateStreamImplBase {

  private static final Logger log = LoggerFactory.getLogger(DelegateStreamService.class);
  static final int MAX_FIELD = 255;
  static final int MAX_TAGS = 64;

  private final TetherStore store;
  private final DelegateTracker tracker;
  private final Clock clock;
  private final HeartbeatSettings settings;
  private final String replicaId;

  public DelegateStreamService(TetherStore store, DelegateTracker tracker, Clock clock,
      HeartbeatSettings settings, String replicaId) {
    this.replicaId = replicaId;
    this.store = store;
    this.tracker = tracker;
    this.clock = clock;
    this.settings = settings;
  }

  @Override
  public StreamObserver<DelegateMessage> connect(StreamObserver<ManagerMessage> responses) {
    return new Connection(AuthContext.identity(), AuthContext.liveStream(), responses);
  }

  private final class Connection implements StreamObserver<DelegateMessage> {
    private final DelegateIdentity identity;
    private final LiveStream live;
    private final StreamObserver<ManagerMessage> out;
    private String delegateId;

    Connection(DelegateIdentity identity, LiveStream live, StreamObserver<ManagerMessage> out) {
      this.identity = identity;
      this.live = live;
      this.out = out;
    }

    @Override
    public void onNext(DelegateMessage message) {
      switch (message.getKindCase()) {
        case REGISTER -> register(message.getRegister());
        case HEARTBEAT -> heartbeat(message.getHeartbeat().getSequence());
        case GOODBYE -> {
          log.info("delegate {} ({}) says goodbye: {}", identity.delegateName(), delegateId,
              sanitize(message.getGoodbye().getReason()));
          live.closeWith(Status.OK.withDescription("goodbye"));
        }
        default -> live.closeWith(Status.INVALID_ARGUMENT.withDescription("empty delegate message"));
      }
    }

    private void register(Register r) {
      if (delegateId != null) {
        live.closeWith(Status.FAILED_PRECONDITION.withDescription("Register sent twice on one stream"));
        return;
      }
      String problem = invalid(r);
      if (problem != null) {
        live.closeWith(Status.INVALID_ARGUMENT.withDescription("invalid Register: " + problem));
        return;
      }
      Instant now = clock.instant();
      String id;
      try {
        id = store.delegateConnected(new DelegateRecord(null, identity.accountId(),
            identity.delegateName(), r.getHostname(), r.getDelegateType(), r.getVersion(),
            List.copyOf(r.getTagsList()), r.getIp(), identity.tokenPublicId(), identity.tokenName(),
            true, now, now, now, null, null, replicaId));
      } catch (StoreException e) {
        log.error("could not record delegate {}: {}", identity.delegateName(), e.getMessage());
        live.closeWith(Status.UNAVAILABLE.withDescription("manager storage unavailable, retry later"));
        return;
      }
      delegateId = id;
      boolean sent = live.acceptIfLive(() -> {
        tracker.connected(live, id, now);
        out.onNext(ManagerMessage.newBuilder()
            .setRegistered(Registered.newBuilder()
                .setDelegateId(id)
                .setHeartbeatIntervalMs((int) settings.interval().toMillis()))
            .build());
      });
      if (sent) {
        log.info("delegate connected: {} '{}' on {} ({}), token {} '{}'", identity.accountId(),
            identity.delegateName(), r.getHostname(), id, identity.tokenPublicId(), identity.tokenName());
      }
    }

    private void heartbeat(long sequence) {
      if (delegateId == null) {
        live.closeWith(Status.FAILED_PRECONDITION.withDescription("Heartbeat before Register"));
        return;
      }
      live.acceptHeartbeat(() -> {
        tracker.heartbeat(live);
        out.onNext(ManagerMessage.newBuilder()
            .setHeartbeatAck(HeartbeatAck.newBuilder()
                .setSequence(sequence)
                .setReceivedAtUnixMs(clock.millis()))
            .build());
      });
    }

    @Override
    public void onError(Throwable t) {
      // the delegate went away; the interceptor unregisters the stream and the tracker records it
    }

    @Override
    public void onCompleted() {
      live.closeWith(Status.OK.withDescription("delegate closed the stream"));
    }
  }

  private static String invalid(Register r) {
    if (r.getHostname().isEmpty() || r.getHostname().length() > MAX_FIELD) {
      return "hostname must have 1 to " + MAX_FIELD + " characters";
    }
    if (r.getDelegateType().length() > 64 || r.getVersion().length() > 64 || r.getIp().length() > 64) {
      return "delegate_type, version and ip must have at most 64 characters";
    }
    if (r.getTagsCount() > MAX_TAGS) {
      return "at most " + MAX_TAGS + " tags, got " + r.getTagsCount();
    }
    int tagChars = 0;
    for (String tag : r.getTagsList()) {
      if (tag.isEmpty() || tag.contains(",")) {
        return "tags must be non-empty and contain no comma";
      }
      tagChars += tag.length() + 1;
    }
    if (tagChars > 1024) {
      return "tags must total at most 1024 characters";
    }
    String all = r.getHostname() + r.getDelegateType() + r.getVersion() + r.getIp() + String.join("", r.getTagsList());
    if (all.chars().anyMatch(Character::isISOControl)) {
      return "fields must not contain control characters";
    }
    return null;
  }

  private static String sanitize(String s) {
    String cut = s.length() > MAX_FIELD ? s.substring(0, MAX_FIELD) : s;
    return cut.replaceAll("\\p{Cntrl}", "?");
  }
}
