package dev.tether.e2e;

import com.google.protobuf.ByteString;
import dev.tether.common.handshake.HandshakeCrypto;
import dev.tether.proto.delegate.v1.Begin;
import dev.tether.proto.delegate.v1.DelegateAuthGrpc;
import dev.tether.proto.delegate.v1.HandshakeRequest;
import dev.tether.proto.delegate.v1.HandshakeResponse;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.TlsChannelCredentials;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import java.io.File;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The starving client of the second security review, as a process of its own: from one source
 * address it opens many connections and, on each, handshakes that send Begin and nothing more. It
 * cancels each just before the manager's deadline and reopens it at once, for as long as it runs,
 * and prints how many it holds and how they were refused, every second.
 *
 * <p>Usage: {@code StarvingClient PORT CA_FILE SOURCE_ADDRESS CONNECTIONS PER_CONNECTION}.
 */
public final class StarvingClient {

  private final Map<String, AtomicInteger> refusals = new ConcurrentHashMap<>();
  private final AtomicInteger held = new AtomicInteger();
  private final AtomicInteger opened = new AtomicInteger();
  private final ScheduledExecutorService timer = Executors.newScheduledThreadPool(2);

  public static void main(String[] args) throws Exception {
    int port = Integer.parseInt(args[0]);
    File ca = new File(args[1]);
    String source = args[2];
    int connections = Integer.parseInt(args[3]);
    int perConnection = Integer.parseInt(args[4]);
    new StarvingClient().run(port, ca, source, connections, perConnection);
  }

  private void run(int port, File ca, String source, int connections, int perConnection) throws Exception {
    List<ManagedChannel> channels = new ArrayList<>();
    for (int c = 0; c < connections; c++) {
      channels.add(NettyChannelBuilder.forAddress("127.0.0.1", port, TlsChannelCredentials.newBuilder().trustManager(ca).build())
          .localSocketPicker(new NettyChannelBuilder.LocalSocketPicker() {
            @Override
            public SocketAddress createSocketAddress(SocketAddress remote, io.grpc.Attributes attrs) {
              return new InetSocketAddress(source, 0);
            }
          })
          .build());
    }
    for (ManagedChannel channel : channels) {
      for (int i = 0; i < perConnection; i++) {
        hold(channel);
      }
    }
    while (true) {
      System.out.println("held=" + held.get() + " opened=" + opened.get() + " refusals=" + refusals);
      System.out.flush();
      Thread.sleep(1000);
    }
  }

  /** One Begin-only handshake, cancelled after 9 s (the manager's deadline is 10 s) and reopened at once. */
  private void hold(ManagedChannel channel) {
    opened.incrementAndGet();
    var requests = DelegateAuthGrpc.newStub(channel).handshake(new ClientResponseObserver<HandshakeRequest, HandshakeResponse>() {
      private boolean challenged;

      @Override
      public void beforeStart(ClientCallStreamObserver<HandshakeRequest> call) {
        timer.schedule(() -> call.cancel("holding no longer", null), 9, TimeUnit.SECONDS);
      }

      @Override
      public void onNext(HandshakeResponse value) {
        if (!challenged) {
          challenged = true;
          held.incrementAndGet();
        }
      }

      @Override
      public void onError(Throwable t) {
        if (challenged) {
          held.decrementAndGet();
        } else {
          Status status = Status.fromThrowable(t);
          refusals.computeIfAbsent(status.getCode() + ": " + status.getDescription(), k -> new AtomicInteger())
              .incrementAndGet();
        }
        timer.schedule(() -> hold(channel), challenged ? 0 : 200, TimeUnit.MILLISECONDS);
      }

      @Override
      public void onCompleted() {
        onError(Status.OK.asRuntimeException());
      }
    });
    requests.onNext(HandshakeRequest.newBuilder().setBegin(Begin.newBuilder()
        .setProtocolVersion(HandshakeCrypto.PROTOCOL_VERSION).setAccountId("starver")
        .setTokenId("tid_aaaaaaaaaaaaaaaa").setDelegateName("starver")
        .setClientNonce(ByteString.copyFrom(HandshakeCrypto.randomBytes(32)))).build());
  }
}
