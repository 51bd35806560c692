package dev.tether.manager.hardening;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tether.manager.testing.ManagerFixture;
import dev.tether.manager.testing.RawBytes;
import dev.tether.proto.delegate.v1.DelegateAuthGrpc;
import io.grpc.CallOptions;
import io.grpc.ClientCall;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Garbage in place of a protobuf message gets a clear refusal and no stack trace in the log. */
class MalformedInputTest {

  @TempDir Path dataDir;

  /** Found by the second security review: each 4-byte garbage handshake message logged a 2.8 KB stack trace. */
  @Test
  void garbageHandshakeMessage_isRefusedWithInvalidArgumentAndLogsNoStackTrace() throws Exception {
    List<LogRecord> severe = new CopyOnWriteArrayList<>();
    Handler capture = new Handler() {
      @Override
      public void publish(LogRecord record) {
        if (record.getLevel().intValue() >= Level.WARNING.intValue() && record.getThrown() != null) {
          severe.add(record);
        }
      }

      @Override
      public void flush() { }

      @Override
      public void close() { }
    };
    Logger grpc = Logger.getLogger("io.grpc");
    grpc.addHandler(capture);
    try (ManagerFixture fixture = new ManagerFixture(dataDir)) {
      MethodDescriptor<byte[], byte[]> raw = DelegateAuthGrpc.getHandshakeMethod().toBuilder(RawBytes.MARSHALLER, RawBytes.MARSHALLER).build();
      CompletableFuture<Status> closed = new CompletableFuture<>();
      ClientCall<byte[], byte[]> call = fixture.channel().newCall(raw, CallOptions.DEFAULT.withDeadlineAfter(10, TimeUnit.SECONDS));
      call.start(new ClientCall.Listener<>() {
        @Override
        public void onClose(Status status, Metadata trailers) {
          closed.complete(status);
        }
      }, new Metadata());
      call.request(1);
      call.sendMessage(new byte[] {(byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff});
      call.halfClose();

      Status status = closed.get(10, TimeUnit.SECONDS);
      assertThat(status.getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
      assertThat(status.getDescription()).startsWith("malformed handshake message");
    } finally {
      grpc.removeHandler(capture);
    }
    assertThat(severe).as("gRPC log records with a stack trace").isEmpty();
  }

}
