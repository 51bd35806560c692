package dev.tether.delegate.connect;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.tether.delegate.config.ManagerEndpoint;
import io.grpc.ManagedChannel;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.SSLSocketFactory;
import org.junit.jupiter.api.Test;

/**
 * The limits under the delegate's connection, against peers that are not a manager: one that
 * accepts the connection and never answers TLS (through gRPC, and through each of the TLS
 * factory's own createSocket overloads), and one that sends an HTTP/2 header block without
 * end (gRPC's OkHttp transport would hold all of it in memory).
 */
class GuardedSocketsTest {

  private static final GuardedSockets.Limits SMALL = new GuardedSockets.Limits(Duration.ofSeconds(5),
      Duration.ofSeconds(1), 256 * 1024, 64 * 1024, System::nanoTime);

  @Test
  void aPeerThatNeverAnswersTls_failsTheAttemptAndClosesItsSocket_leavingNoThreadBehind() throws Exception {
    try (ServerSocket silent = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
      List<Socket> accepted = new CopyOnWriteArrayList<>();
      CompletableFuture.runAsync(() -> {
        try {
          while (true) {
            accepted.add(silent.accept());
          }
        } catch (IOException closed) {
          // the test is over
        }
      });
      ManagedChannel channel = Channels.open(new ManagerEndpoint("127.0.0.1", silent.getLocalPort(), true), null,
          30, 10, SMALL);
      try {
        assertThat(Channels.connectNow(channel, Duration.ofSeconds(5))).isFalse();
        await().atMost(Duration.ofSeconds(60)).until(() -> !accepted.isEmpty());
        Socket first = accepted.get(0);
        first.setSoTimeout(60_000);
        InputStream in = first.getInputStream();
        // the ClientHello, then the end of the stream: the delegate closed its side
        await().atMost(Duration.ofSeconds(60)).until(() -> in.read(new byte[4096]) < 0);
        await().atMost(Duration.ofSeconds(60)).until(() -> Thread.getAllStackTraces().values().stream()
            .noneMatch(stack -> Arrays.stream(stack).anyMatch(f -> f.getMethodName().equals("startHandshake"))));
      } finally {
        channel.shutdownNow().awaitTermination(30, TimeUnit.SECONDS);
        for (Socket socket : accepted) {
          socket.close();
        }
      }
    }
  }

  @Test
  void theTlsFactorysOwnSockets_giveUpOnAPeerThatNeverAnswersTls_byEveryOverload() throws Exception {
    SSLContext context = SSLContext.getInstance("TLS");
    context.init(null, null, null);
    SSLSocketFactory factory = GuardedSockets.tls(context.getSocketFactory(), SMALL, false);
    InetAddress loopback = InetAddress.getLoopbackAddress();
    // the kernel completes the connections in the backlog; nothing ever answers the ClientHello
    try (ServerSocket silent = new ServerSocket(0, 50, loopback)) {
      int port = silent.getLocalPort();
      List<Callable<Socket>> overloads = List.of(
          () -> factory.createSocket(loopback.getHostAddress(), port),
          () -> factory.createSocket(loopback.getHostAddress(), port, loopback, 0),
          () -> factory.createSocket(loopback, port),
          () -> factory.createSocket(loopback, port, loopback, 0));
      for (Callable<Socket> overload : overloads) {
        try (SSLSocket socket = (SSLSocket) overload.call()) {
          CompletableFuture<Void> handshake = CompletableFuture.runAsync(() -> {
            try {
              socket.startHandshake();
            } catch (IOException e) {
              throw new UncheckedIOException(e);
            }
          });
          assertThatThrownBy(() -> handshake.get(10, TimeUnit.SECONDS)).as("overload %d", overloads.indexOf(overload))
              .hasStackTraceContaining("no TLS answer within 1 s");
        }
      }
    }
  }

  @Test
  void aPeerSendingAHeaderBlockWithoutEnd_isCutOffAtTheByteLimit() throws Exception {
    long value = 64L * 1024 * 1024;
    AtomicLong written = new AtomicLong();
    try (ServerSocket server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
      CompletableFuture<Throwable> flood = CompletableFuture.supplyAsync(() -> {
        try (Socket socket = server.accept()) {
          OutputStream out = socket.getOutputStream();
          out.write(frame(4, 0, 0, new byte[0])); // SETTINGS
          // HEADERS on stream 1 without END_HEADERS: one literal header "x" whose value is 64 MiB long
          ByteArrayOutputStream block = new ByteArrayOutputStream();
          block.write(0x00);
          block.write(0x01);
          block.write('x');
          block.write(0x7f);
          for (long rest = value - 127; ; rest >>= 7) {
            if (rest < 128) {
              block.write((int) rest);
              break;
            }
            block.write((int) (rest & 0x7f) | 0x80);
          }
          out.write(frame(1, 0, 1, block.toByteArray()));
          byte[] chunk = new byte[16 * 1024];
          Arrays.fill(chunk, (byte) 'a');
          for (long sent = 0; sent < value; sent += chunk.length) {
            out.write(frame(9, 0, 1, chunk)); // CONTINUATION
            written.addAndGet(chunk.length);
          }
          return null;
        } catch (IOException e) {
          return e;
        }
      });
      ManagedChannel channel = Channels.open(new ManagerEndpoint("127.0.0.1", server.getLocalPort(), false), null,
          30, 10, SMALL);
      try {
        // one attempt is enough (waiting for the channel to be ready would wait out its whole bound)
        channel.getState(true);
        Throwable failure = flood.get(60, TimeUnit.SECONDS);
        assertThat(failure).as("the flood was cut off").isNotNull();
        // the limit (256 KiB, then 64 KiB a second) plus what the two sockets' buffers held
        assertThat(written.get()).isLessThan(16L * 1024 * 1024);
      } finally {
        channel.shutdownNow().awaitTermination(30, TimeUnit.SECONDS);
      }
    }
  }

  @Test
  void theByteLimit_allowsABurstThenTheRate() throws Exception {
    AtomicLong now = new AtomicLong();
    GuardedSockets.Limits limits = new GuardedSockets.Limits(Duration.ofSeconds(1), Duration.ofSeconds(1), 1000, 100,
        now::get);
    try (Socket socket = new Socket()) {
      InputStream in = new GuardedSockets.Metered(new ByteArrayInputStream(new byte[10_000]), limits, socket);

      assertThat(in.readNBytes(1000)).hasSize(1000);
      now.addAndGet(TimeUnit.SECONDS.toNanos(2));
      assertThat(in.readNBytes(200)).hasSize(200);
      assertThatThrownBy(() -> in.read(new byte[1])).isInstanceOf(IOException.class)
          .hasMessage("the peer sent more than 1000 bytes at once, or more than 100 bytes a second after that: far more"
              + " than a manager sends; connection closed");
      assertThat(socket.isClosed()).isTrue();
    }
  }

  private static byte[] frame(int type, int flags, int stream, byte[] payload) {
    byte[] frame = new byte[9 + payload.length];
    frame[0] = (byte) (payload.length >>> 16);
    frame[1] = (byte) (payload.length >>> 8);
    frame[2] = (byte) payload.length;
    frame[3] = (byte) type;
    frame[4] = (byte) flags;
    frame[5] = (byte) (stream >>> 24);
    frame[6] = (byte) (stream >>> 16);
    frame[7] = (byte) (stream >>> 8);
    frame[8] = (byte) stream;
    System.arraycopy(payload, 0, frame, 9, payload.length);
    return frame;
  }
}
