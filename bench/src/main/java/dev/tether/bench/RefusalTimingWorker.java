package dev.tether.bench;

import com.google.protobuf.ByteString;
import dev.tether.common.handshake.HandshakeCrypto;
import dev.tether.common.token.DelegateToken;
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
import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

/**
 * The timing client of the {@code refusal-timing} scenario, in a process of its own: over TLS to a
 * manager in another process, it times Begin to Challenge for a known token, an unknown token id
 * of a known account, and an unknown account, interleaved round by round. The account and the
 * known token are those the {@link BenchServer} wrote into its data directory.
 *
 * <p>Command on stdin: {@code measure ROUNDS WARMUP}, answered with {@link #KINDS} as keys, each
 * the comma-separated nanoseconds from Begin to Challenge of every round, in round order.
 */
public final class RefusalTimingWorker {

  /** The three kinds of Begin, in the order of the answer's keys. */
  static final List<String> KINDS = List.of("known_token", "unknown_token_id", "unknown_account");
  /** Each measurement ends with a cancel (RST_STREAM): a new connection this often stays clear of the rapid-reset limit. */
  private static final int ROUNDS_PER_CONNECTION = 50;

  private final int port;
  private final Path dir;
  private final String[][] begins;

  private RefusalTimingWorker(int port, Path dir) throws IOException {
    this.port = port;
    this.dir = dir;
    String accountId = BenchServer.account(dir);
    String knownToken = BenchServer.token(dir).publicId();
    String unknownToken = DelegateToken.generate().publicId();
    this.begins = new String[][] {{accountId, knownToken}, {accountId, unknownToken}, {"no-such-account", unknownToken}};
  }

  public static void main(String[] args) throws Exception {
    if (args.length != 2 || !args[0].matches("[1-9][0-9]{0,4}")) {
      System.err.println("usage: RefusalTimingWorker PORT DATA_DIR");
      System.exit(2);
    }
    RefusalTimingWorker w = new RefusalTimingWorker(Integer.parseInt(args[0]), Path.of(args[1]));
    BenchServer.answer(words -> switch (words[0]) {
      case "measure" -> w.measure(Integer.parseInt(words[1]), Integer.parseInt(words[2]));
      default -> throw new IllegalArgumentException("unknown command '" + words[0] + "' (expected measure ROUNDS WARMUP)");
    });
    System.exit(0);
  }

  /** {@code warmup} Begins, not counted, then {@code rounds} of each kind; answers every round's nanoseconds. */
  private String measure(int rounds, int warmup) throws Exception {
    ManagedChannel channel = channel();
    try {
      for (int warm = 0; warm < warmup; warm++) {
        beginToChallenge(channel, begins[warm % 3][0], begins[warm % 3][1]);
      }
      long[][] nanos = new long[3][rounds];
      for (int i = 0; i < rounds; i++) {
        if (i % ROUNDS_PER_CONNECTION == 0) {
          channel.shutdownNow();
          channel = channel();
          beginToChallenge(channel, begins[0][0], begins[0][1]);
        }
        for (int k = 0; k < 3; k++) {
          // rotate the order each round: no kind always runs just after another
          int kind = (i + k) % 3;
          nanos[kind][i] = beginToChallenge(channel, begins[kind][0], begins[kind][1]);
        }
      }
      StringBuilder answer = new StringBuilder();
      for (int k = 0; k < 3; k++) {
        answer.append(k == 0 ? "" : " ").append(KINDS.get(k)).append('=')
            .append(Arrays.stream(nanos[k]).mapToObj(Long::toString).collect(Collectors.joining(",")));
      }
      return answer.toString();
    } finally {
      channel.shutdownNow();
    }
  }

  private ManagedChannel channel() throws IOException {
    return NettyChannelBuilder.forAddress("127.0.0.1", port,
        TlsChannelCredentials.newBuilder().trustManager(dir.resolve("tls/manager.crt").toFile()).build()).build();
  }

  /** Sends Begin, waits for the Challenge, cancels; returns the nanoseconds from Begin to Challenge. */
  private static long beginToChallenge(ManagedChannel channel, String accountId, String tokenId) throws Exception {
    CompletableFuture<Long> challenged = new CompletableFuture<>();
    ClientCallStreamObserver<HandshakeRequest>[] call = newCallHolder();
    DelegateAuthGrpc.newStub(channel).handshake(new ClientResponseObserver<HandshakeRequest, HandshakeResponse>() {
      @Override
      public void beforeStart(ClientCallStreamObserver<HandshakeRequest> requests) {
        call[0] = requests;
      }

      @Override
      public void onNext(HandshakeResponse value) {
        challenged.complete(System.nanoTime());
      }

      @Override
      public void onError(Throwable t) {
        challenged.completeExceptionally(Status.fromThrowable(t).asRuntimeException());
      }

      @Override
      public void onCompleted() {
        challenged.completeExceptionally(new IllegalStateException("handshake ended without a Challenge"));
      }
    });
    Begin begin = Begin.newBuilder().setProtocolVersion(HandshakeCrypto.PROTOCOL_VERSION).setAccountId(accountId)
        .setTokenId(tokenId).setDelegateName("timing")
        .setClientNonce(ByteString.copyFrom(HandshakeCrypto.randomBytes(HandshakeCrypto.NONCE_BYTES))).build();
    long started = System.nanoTime();
    call[0].onNext(HandshakeRequest.newBuilder().setBegin(begin).build());
    long at = challenged.get(10, TimeUnit.SECONDS);
    call[0].cancel("measured", null);
    return at - started;
  }

  @SuppressWarnings("unchecked")
  private static ClientCallStreamObserver<HandshakeRequest>[] newCallHolder() {
    return new ClientCallStreamObserver[1];
  }
}
