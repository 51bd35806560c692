package dev.tether.bench;

import com.google.protobuf.ByteString;
import dev.tether.common.handshake.HandshakeCrypto;
import dev.tether.common.token.DelegateToken;
import dev.tether.manager.auth.HandshakeLimiter;
import dev.tether.manager.server.ManagerServer;
import dev.tether.manager.server.ManagerSettings;
import dev.tether.manager.token.CreatedAccount;
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
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * Does the time from Begin to Challenge tell an attacker whether an account or a token id exists?
 * Against a real manager over TLS, it times Begin to Challenge for a known token, an unknown token
 * id of a known account, and an unknown account, interleaved, and reports for each the mean of the
 * fastest half (the least disturbed by the machine) and the differences.
 */
final class RefusalTimingScenario {

  private RefusalTimingScenario() {}

  static void run(boolean quick) throws Exception {
    int rounds = quick ? 100 : 300;
    Path dir = Files.createTempDirectory("tether-bench-refusal-timing");
    ManagerSettings settings = ManagerSettings.defaults().withLimits(HandshakeLimiter.Settings.defaults()
        .withFailuresPerAddress(1e9, 1e9));
    try (ManagerServer manager = ManagerServer.start(new ManagerServer.Options(new InetSocketAddress("127.0.0.1", 0),
        new InetSocketAddress("127.0.0.1", 0), dir, null, null, null, false, null, null, List.of(), settings))) {
      CreatedAccount account = manager.manager().tokens().createAccount("bench", "bench");
      String accountId = account.account().id();
      String knownToken = account.defaultToken().record().publicId();
      String unknownToken = DelegateToken.generate().publicId();
      int port = manager.listenAddress().getPort();
      ManagedChannel channel = channel(port, dir);
      String[][] kinds = {{accountId, knownToken}, {accountId, unknownToken}, {"no-such-account", unknownToken}};
      String[] names = {"known_token", "unknown_token_id", "unknown_account"};
      for (int warm = 0; warm < 150; warm++) {
        beginToChallenge(channel, kinds[warm % 3][0], kinds[warm % 3][1]);
      }
      long[][] nanos = new long[3][rounds];
      for (int i = 0; i < rounds; i++) {
        if (i % 50 == 0) {
          // each measurement ends with a cancel (RST_STREAM): stay clear of the rapid-reset limit per connection
          channel.shutdownNow();
          channel = channel(port, dir);
          beginToChallenge(channel, kinds[0][0], kinds[0][1]);
        }
        for (int k = 0; k < 3; k++) {
          int kind = (i + k) % 3;
          nanos[kind][i] = beginToChallenge(channel, kinds[kind][0], kinds[kind][1]);
        }
      }
      channel.shutdownNow();
      double[] fastestHalf = new double[3];
      StringBuilder json = new StringBuilder("{\"scenario\":\"refusal-timing\",\"quick\":" + quick + ",\"rounds\":" + rounds);
      System.out.printf("Begin to Challenge over TLS, %d rounds each, mean of the fastest half:%n", rounds);
      for (int k = 0; k < 3; k++) {
        long[] sorted = nanos[k].clone();
        Arrays.sort(sorted);
        fastestHalf[k] = Arrays.stream(sorted, 0, rounds / 2).average().orElseThrow() / 1000.0;
        double median = sorted[rounds / 2] / 1000.0;
        System.out.printf(Locale.ROOT, "  %-18s %8.1f us (median %.1f us)%n", names[k], fastestHalf[k], median);
        json.append(String.format(Locale.ROOT, ",\"%s_us\":%.1f,\"%s_median_us\":%.1f", names[k], fastestHalf[k],
            names[k], median));
      }
      double tokenDiff = fastestHalf[0] - fastestHalf[1];
      double accountDiff = fastestHalf[0] - fastestHalf[2];
      System.out.printf(Locale.ROOT, "  known minus unknown token id: %+.1f us; known minus unknown account: %+.1f us%n",
          tokenDiff, accountDiff);
      json.append(String.format(Locale.ROOT, ",\"known_minus_unknown_token_us\":%.1f,\"known_minus_unknown_account_us\":%.1f}",
          tokenDiff, accountDiff));
      System.out.println(json);
    }
  }

  private static ManagedChannel channel(int port, Path dir) throws java.io.IOException {
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
