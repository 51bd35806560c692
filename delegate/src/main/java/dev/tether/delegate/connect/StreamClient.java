package dev.tether.delegate.connect;

import dev.tether.proto.delegate.v1.DelegateMessage;
import dev.tether.proto.delegate.v1.DelegateStreamGrpc;
import dev.tether.proto.delegate.v1.Goodbye;
import dev.tether.proto.delegate.v1.Heartbeat;
import dev.tether.proto.delegate.v1.ManagerMessage;
import dev.tether.proto.delegate.v1.Register;
import dev.tether.proto.delegate.v1.Registered;
import io.grpc.CallCredentials;
import io.grpc.Channel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;

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
  private volatile ClientCallStreamObserver<DelegateMessage> requests;
  private volatile AckListener ackListener = (seq, at) -> {};

  /** Called on every acknowledgement, on a gRPC thread. */
  @FunctionalInterface
  public interface AckListener {
    void acked(long sequence, long receivedAtUnixMs);
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
    DelegateStreamGrpc.newStub(channel)
        .withCallCredentials(credentials)
        .connect(client.new Responses());
    client.send(DelegateMessage.newBuilder().setRegister(register).build());
    return client;
  }

  private final class Responses implements ClientResponseObserver<DelegateMessage, ManagerMessage> {
    @Override
    public void beforeStart(ClientCallStreamObserver<DelegateMessage> stream) {
      requests = stream;
    }

    @Override
    public void onNext(ManagerMessage message) {
      switch (message.getKindCase()) {
        case REGISTERED -> registered.complete(message.getRegistered());
        case HEARTBEAT_ACK -> {
          acks.incrementAndGet();
          lastAckSequence.accumulateAndGet(message.getHeartbeatAck().getSequence(), Math::max);
          ackListener.acked(message.getHeartbeatAck().getSequence(),
              message.getHeartbeatAck().getReceivedAtUnixMs());
        }
        default -> { }
      }
    }

    @Override
    public void onError(Throwable t) {
      Status status = Status.fromThrowable(t);
      registered.completeExceptionally(status.asRuntimeException());
      closed.complete(status);
    }

    @Override
    public void onCompleted() {
      registered.completeExceptionally(Status.OK.withDescription("stream ended").asRuntimeException());
      closed.complete(Status.OK);
    }
  }

  public void onAck(AckListener listener) {
    ackListener = listener;
  }

  /** Sends one heartbeat; returns its sequence number, or -1 if the stream is over. */
  public long heartbeat() {
    long seq = nextSequence.incrementAndGet();
    boolean sent = send(DelegateMessage.newBuilder()
        .setHeartbeat(Heartbeat.newBuilder().setSequence(seq).setSentAtUnixMs(System.currentTimeMillis()))
        .build());
    return sent ? seq : -1;
  }

  /** Says goodbye so the manager shows this delegate disconnected at once, and ends the stream. */
  public void goodbye(String reason) {
    if (send(DelegateMessage.newBuilder().setGoodbye(Goodbye.newBuilder().setReason(reason)).build())) {
      synchronized (this) {
        try {
          requests.onCompleted();
        } catch (IllegalStateException | StatusRuntimeException alreadyOver) {
          // the manager ended the stream first
        }
      }
    }
  }

  private synchronized boolean send(DelegateMessage message) {
    if (closed.isDone()) {
      return false;
    }
    try {
      requests.onNext(message);
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

  public long acks() {
    return acks.get();
  }

  public long lastAckSequence() {
    return lastAckSequence.get();
  }

  @Override
  public void close() {
    if (!closed.isDone() && requests != null) {
      requests.cancel("delegate closed the stream", null);
    }
  }
}
