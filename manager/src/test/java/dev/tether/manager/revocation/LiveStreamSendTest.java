package dev.tether.manager.revocation;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tether.proto.delegate.v1.DelegateStreamGrpc;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.ServerCall;
import io.grpc.Status;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * What a delegate's revocable call sends, now that the stream sends on it directly rather than
 * through gRPC's stub: its headers once, with the first message; nothing once it is closed or the
 * delegate has cancelled it (as the stub dropped a send after a cancel).
 */
class LiveStreamSendTest {

  /** A call that records what reaches it, in order. */
  private static final class RecordingCall extends ServerCall<Object, Object> {
    final List<String> seen = new ArrayList<>();
    volatile boolean cancelled;

    @Override
    public void request(int numMessages) { }

    @Override
    public void sendHeaders(Metadata headers) {
      seen.add("headers");
    }

    @Override
    public void sendMessage(Object message) {
      seen.add("message " + message);
    }

    @Override
    public void close(Status status, Metadata trailers) {
      seen.add("close " + status.getCode());
    }

    @Override
    public boolean isCancelled() {
      return cancelled;
    }

    @Override
    @SuppressWarnings("unchecked")
    public MethodDescriptor<Object, Object> getMethodDescriptor() {
      return (MethodDescriptor<Object, Object>) (MethodDescriptor<?, ?>) DelegateStreamGrpc.getConnectMethod();
    }
  }

  private final RevocationRegistry registry = new RevocationRegistry();
  private final RecordingCall call = new RecordingCall();
  private final LiveStream live = registry.register(call, 1, "tid_aaaaaaaaaaaaaaaa", null, "a stream");

  @Test
  void theHeadersGoOnce_withTheFirstMessage() {
    live.sendMessage("registered");
    live.sendMessage("ack 1");

    assertThat(call.seen).containsExactly("headers", "message registered", "message ack 1");
  }

  @Test
  void nothingIsSent_onceTheDelegateCancelled_orTheCallIsClosed() {
    live.sendMessage("registered");
    call.cancelled = true;
    live.sendMessage("a rotation racing the cancel");

    RecordingCall closedCall = new RecordingCall();
    LiveStream other = registry.register(closedCall, 1, "tid_aaaaaaaaaaaaaaaa", null, "another");
    other.closeWith(Status.OK);
    other.sendMessage("after the close");

    assertThat(call.seen).containsExactly("headers", "message registered");
    assertThat(closedCall.seen).containsExactly("close OK");
  }
}
