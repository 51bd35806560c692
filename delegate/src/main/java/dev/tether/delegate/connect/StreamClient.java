package dev.tether.delegate.connect;

import dev.tether.common.handshake.WireText;
import dev.tether.proto.delegate.v1.DelegateMessage;
import dev.tether.proto.delegate.v1.DelegateStreamGrpc;
import dev.tether.proto.delegate.v1.Goodbye;
import dev.tether.proto.delegate.v1.Heartbeat;
import dev.tether.proto.delegate.v1.ManagerMessage;
import dev.tether.proto.delegate.v1.Register;
import dev.tether.proto.delegate.v1.Registered;
import dev.tether.proto.delegate.v1.RotateToken;
import dev.tether.proto.delegate.v1.RotationResult;
import io.grpc.CallCredentials;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * One delegate stream: registers, sends heartbeats on request and counts their acknowledgements,
 * and reports how the manager ended it. Sends are serialized; callers choose the schedule.
 */
public final class StreamClient implements AutoCloseable {

  private final CompletableFuture<Registered> registered = new CompletableFuture<>();
  private final CompletableFuture<Status> closed = new CompletableFuture<>();
  private final AtomicLong acks = new AtomicLong();
  private final AtomicLong lastAckSequence = new AtomicLong();
  private final AtomicLong nextSequence = new AtomicLong();
  private volatile ClientCall<DelegateMessage, ManagerMessage> call;
  private volatile AckListener ackListener = (seq, at) -> {};
  private volatile RoundTripListener roundTripListener;
  private volatile Consumer<RotateToken> rotationListener = message -> { };
  /** When each heartbeat not yet acknowledged went out (System.nanoTime), while a round-trip listener is set. */
  private final ConcurrentSkipListMap<Long, Long> sentAt = new ConcurrentSkipListMap<>();
  /** Heartbeats whose send time is kept; older ones are forgotten, their acknowledgements not timed. */
  static final int MAX_UNACKNOWLEDGED = 64;
  private volatile String tokenState;
  /** The longest reason of a RotationResult, in code points. */
  static final int MAX_REASON = 1024;

  private static final Metadata.Key<String> TOKEN_STATE =
      Metadata.Key.of(WireText.TOKEN_STATE_TRAILER, Metadata.ASCII_STRING_MARSHALLER);

  /** Called on every acknowledgement, on a gRPC thread. */
  @FunctionalInterface
  public interface AckListener {
    void acked(long sequence, long receivedAtUnixMs);
  }

  /**
   * Called on every acknowledgement with the time from its heartbeat sent to the acknowledgement
   * received, in nanoseconds, or -1 when the heartbeat's send time is not known; on a gRPC thread.
   */
  @FunctionalInterface
  public interface RoundTripListener {
    void acknowledged(long sequence, long roundTripNanos);
  }

  private StreamClient() {}

  /** Opens the stream on {@code channel}, authenticated by {@code session}, and registers. */
  public static StreamClient open(Channel channel, EstablishedSession session, Register register) {
    return open(channel, new SessionCredentials(session), register);
  }

  /**
   * Opens the stream with the given call credentials, or none when {@code credentials} is null (the
   * benchmarks' bare grpc-java baseline, which authenticates nothing), and registers.
   */
  public static StreamClient open(Channel channel, CallCredentials credentials, Register register) {
    StreamClient client = new StreamClient();
    // the call itself, not a stub's observer: a stub turns every close into a StatusRuntimeException
    // with a stack trace, which a process holding thousands of streams (the benchmarks) pays per stream
    client.call = channel.newCall(DelegateStreamGrpc.getConnectMethod(),
        CallOptions.DEFAULT.withCallCredentials(credentials));
    client.call.start(client.new Responses(), new Metadata());
    client.call.request(1);
    client.send(DelegateMessage.newBuilder().setRegister(register).build());
    return client;
  }

  private final class Responses extends ClientCall.Listener<ManagerMessage> {
    @Override
    public void onMessage(ManagerMessage message) {
      // one message at a time, as a stub would ask for them
      call.request(1);
      switch (message.getKindCase()) {
        case REGISTERED -> registered.complete(message.getRegistered());
        case HEARTBEAT_ACK -> {
          acks.incrementAndGet();
          lastAckSequence.accumulateAndGet(message.getHeartbeatAck().getSequence(), Math::max);
          ackListener.acked(message.getHeartbeatAck().getSequence(),
              message.getHeartbeatAck().getReceivedAtUnixMs());
          roundTrip(message.getHeartbeatAck().getSequence());
        }
        case ROTATE_TOKEN -> rotationListener.accept(message.getRotateToken());
        // a kind this delegate does not know (a newer manager): ignored, as docs/protocol.md 6.3 asks
        default -> { }
      }
    }

    @Override
    public void onClose(Status status, Metadata trailers) {
      // read before closed completes, so that whoever sees the close also sees the token's state
      tokenState = trailers.get(TOKEN_STATE);
      if (!registered.isDone()) {
        registered.completeExceptionally(status.isOk()
            ? Status.OK.withDescription("stream ended").asRuntimeException() : status.asRuntimeException());
      }
      closed.complete(status);
    }
  }

  /** Called with each RotateToken the manager sends, on a gRPC thread: hand the work to another thread. */
  public void onRotateToken(Consumer<RotateToken> listener) {
    rotationListener = listener;
  }

  /** Answers a RotateToken, or reports a move on the new stream; returns whether it was sent. */
  public boolean rotationResult(String rotationId, RotationResult.Outcome outcome, String reason) {
    if (reason != null && reason.codePointCount(0, reason.length()) > MAX_REASON) {
      // the manager keeps at most 1024 code points (docs/protocol.md 6.3)
      reason = reason.substring(0, reason.offsetByCodePoints(0, MAX_REASON - 3)) + "...";
    }
    return send(DelegateMessage.newBuilder().setRotationResult(RotationResult.newBuilder()
        .setRotationId(rotationId).setOutcome(outcome).setReason(reason == null ? "" : reason)).build());
  }

  public void onAck(AckListener listener) {
    ackListener = listener;
  }

  /** Times each heartbeat to its acknowledgement from now on; set it before the first heartbeat. */
  public void onRoundTrip(RoundTripListener listener) {
    roundTripListener = listener;
  }

  private void roundTrip(long sequence) {
    RoundTripListener listener = roundTripListener;
    if (listener == null) {
      return;
    }
    Long sent = sentAt.remove(sequence);
    // the manager acknowledges in order: an earlier heartbeat still listed will not be acknowledged
    sentAt.headMap(sequence).clear();
    listener.acknowledged(sequence, sent == null ? -1 : System.nanoTime() - sent);
  }

  /** Sends one heartbeat; returns its sequence number, or -1 if the stream is over. */
  public long heartbeat() {
    long seq = nextSequence.incrementAndGet();
    boolean timed = roundTripListener != null;
    if (timed) {
      // noted before the send, so that an acknowledgement cannot arrive before it
      sentAt.put(seq, System.nanoTime());
      while (sentAt.size() > MAX_UNACKNOWLEDGED) {
        sentAt.pollFirstEntry();
      }
    }
    boolean sent = send(DelegateMessage.newBuilder()
        .setHeartbeat(Heartbeat.newBuilder().setSequence(seq).setSentAtUnixMs(System.currentTimeMillis()))
        .build());
    if (!sent && timed) {
      sentAt.remove(seq);
    }
    return sent ? seq : -1;
  }

  /**
   * Says goodbye so the manager shows this delegate disconnected at once, and ends the stream;
   * returns whether the goodbye was sent (false when the stream was already over).
   */
  public boolean goodbye(String reason) {
    if (send(DelegateMessage.newBuilder().setGoodbye(Goodbye.newBuilder().setReason(reason)).build())) {
      synchronized (this) {
        try {
          call.halfClose();
        } catch (IllegalStateException | StatusRuntimeException alreadyOver) {
          // the manager ended the stream first
        }
      }
      return true;
    }
    return false;
  }

  private synchronized boolean send(DelegateMessage message) {
    if (closed.isDone()) {
      return false;
    }
    try {
      call.sendMessage(message);
      return true;
    } catch (IllegalStateException | StatusRuntimeException e) {
      return false;
    }
  }

  public CompletableFuture<Registered> registered() {
    return registered;
  }

  /** Completes with the status that ended the stream. */
  public CompletableFuture<Status> closed() {
    return closed;
  }

  /**
   * Why the manager ended the stream's token, from the trailer {@link WireText#TOKEN_STATE_TRAILER}
   * of its close ({@link WireText#TOKEN_STATE_REVOKED} or {@link WireText#TOKEN_STATE_EXPIRED}); empty
   * when the close carried none (an older manager, or a close for another reason).
   */
  public java.util.Optional<String> tokenState() {
    return java.util.Optional.ofNullable(tokenState);
  }

  public long acks() {
    return acks.get();
  }

  public long lastAckSequence() {
    return lastAckSequence.get();
  }

  @Override
  public void close() {
    if (!closed.isDone() && call != null) {
      call.cancel("delegate closed the stream", null);
    }
  }
}
