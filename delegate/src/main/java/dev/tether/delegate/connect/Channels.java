package dev.tether.delegate.connect;

import dev.tether.delegate.config.ManagerEndpoint;
import io.grpc.ChannelCredentials;
import io.grpc.ConnectivityState;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.TlsChannelCredentials;
import java.io.IOException;
import java.net.Socket;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.X509ExtendedTrustManager;

/**
 * Channels to the manager. Over TLS without a CA file, the TLS layer accepts the manager's
 * certificate as presented and the token-bound handshake authenticates the manager instead (its
 * proof covers the certificate's hash, docs/protocol.md). With a CA file, ordinary certificate and
 * host name verification is added on top. HTTP/2 keepalive detects a dead connection.
 */
public final class Channels {

  /** Keepalive ping interval and timeout: a dead connection is noticed within about 40 s. */
  public static final long KEEPALIVE_SECONDS = 30;
  public static final long KEEPALIVE_TIMEOUT_SECONDS = 10;

  private Channels() {}

  public static ManagedChannel open(ManagerEndpoint endpoint, Path caFile) {
    return open(endpoint, caFile, KEEPALIVE_SECONDS, KEEPALIVE_TIMEOUT_SECONDS);
  }

  /** With other keepalive times (gRPC raises a ping interval below 10 s to 10 s). */
  public static ManagedChannel open(ManagerEndpoint endpoint, Path caFile, long keepaliveSeconds,
      long keepaliveTimeoutSeconds) {
    ChannelCredentials credentials;
    if (!endpoint.tls()) {
      credentials = InsecureChannelCredentials.create();
    } else if (caFile != null) {
      try {
        credentials = TlsChannelCredentials.newBuilder().trustManager(caFile.toFile()).build();
      } catch (IOException e) {
        throw new IllegalArgumentException("MANAGER_CA_FILE " + caFile + " cannot be read: " + e.getMessage(), e);
      }
    } else {
      credentials = TlsChannelCredentials.newBuilder().trustManager(new HandshakeVerifiedTrust()).build();
    }
    return Grpc.newChannelBuilderForAddress(endpoint.host(), endpoint.port(), credentials)
        .keepAliveTime(keepaliveSeconds, TimeUnit.SECONDS)
        .keepAliveTimeout(keepaliveTimeoutSeconds, TimeUnit.SECONDS)
        .keepAliveWithoutCalls(true)
        .maxInboundMessageSize(64 * 1024)
        // a DNS name with several addresses: start at a random one and fail over to the next
        .defaultServiceConfig(java.util.Map.of("loadBalancingConfig",
            java.util.List.of(java.util.Map.of("pick_first", java.util.Map.of("shuffleAddressList", true)))))
        .build();
  }

  /**
   * Makes {@code channel} connect now and waits, at most {@code max}, until it is READY; returns
   * whether it is. gRPC's pick_first stays in TRANSIENT_FAILURE after a failed connection until a
   * new one succeeds, and fails every call at once with the old error meanwhile; resetting its
   * connect backoff only schedules a new connection. So a call started right after the reset fails
   * at once, however soon the manager is back: after a manager restart, a delegate would then wait
   * out a whole backoff for nothing (the reconnect benchmark, docs/benchmarks.md). When the channel
   * is not READY in time, the caller's call fails with the channel's real error.
   */
  public static boolean connectNow(ManagedChannel channel, Duration max) throws InterruptedException {
    channel.resetConnectBackoff();
    long deadline = System.nanoTime() + max.toNanos();
    ConnectivityState state = channel.getState(true);
    while (state != ConnectivityState.READY && state != ConnectivityState.SHUTDOWN) {
      CountDownLatch changed = new CountDownLatch(1);
      channel.notifyWhenStateChanged(state, changed::countDown);
      long left = deadline - System.nanoTime();
      if (left <= 0 || !changed.await(left, TimeUnit.NANOSECONDS)) {
        return channel.getState(false) == ConnectivityState.READY;
      }
      state = channel.getState(true);
    }
    return state == ConnectivityState.READY;
  }

  /**
   * Accepts the presented certificate at the TLS layer; the handshake then checks that the peer
   * holding that certificate knows the token. Never used without the handshake.
   */
  static final class HandshakeVerifiedTrust extends X509ExtendedTrustManager {
    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket) {
      requireChain(chain);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine) {
      requireChain(chain);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType) {
      requireChain(chain);
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket) {
      throw new UnsupportedOperationException("client certificates are not checked by a delegate");
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine) {
      throw new UnsupportedOperationException("client certificates are not checked by a delegate");
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType) {
      throw new UnsupportedOperationException("client certificates are not checked by a delegate");
    }

    @Override
    public X509Certificate[] getAcceptedIssuers() {
      return new X509Certificate[0];
    }

    private static void requireChain(X509Certificate[] chain) {
      if (chain == null || chain.length == 0) {
        throw new IllegalArgumentException("the manager presented no certificate");
      }
    }
  }
}
