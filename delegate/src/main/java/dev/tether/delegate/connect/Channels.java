package dev.tether.delegate.connect;

import dev.tether.common.text.UserText;
import dev.tether.delegate.config.ManagerEndpoint;
import io.grpc.ConnectivityState;
import io.grpc.ManagedChannel;
import com.google.common.net.InetAddresses;
import io.grpc.okhttp.OkHttpChannelBuilder;
import io.grpc.okhttp.internal.OkHostnameVerifier;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.HostnameVerifier;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSocketFactory;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509ExtendedTrustManager;

/**
 * Channels to the manager, on gRPC's OkHttp transport (a delegate holds one connection; Netty's
 * server-sized machinery is not needed for that). Over TLS without a CA file, the TLS layer accepts
 * the manager's certificate as presented and the token-bound handshake authenticates the manager
 * instead (its proof covers the certificate's hash, docs/protocol.md). With a CA file, ordinary
 * certificate and host name verification is added on top. HTTP/2 keepalive detects a dead
 * connection.
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
    return open(endpoint, caFile, keepaliveSeconds, keepaliveTimeoutSeconds, GuardedSockets.Limits.DEFAULT);
  }

  /** With other limits on the connection (tests). */
  static ManagedChannel open(ManagerEndpoint endpoint, Path caFile, long keepaliveSeconds,
      long keepaliveTimeoutSeconds, GuardedSockets.Limits limits) {
    OkHttpChannelBuilder builder = OkHttpChannelBuilder.forAddress(endpoint.host(), endpoint.port())
        .socketFactory(GuardedSockets.plain(limits));
    if (!endpoint.tls()) {
      builder.usePlaintext();
    } else if (caFile != null) {
      // the name is checked in the TLS handshake (the JDK's endpoint identification), so that a
      // refused certificate ends the connection; CERTIFIED_NAME checks it again after the handshake
      builder.sslSocketFactory(GuardedSockets.tls(tls(new RequireHttp2(caTrust(caFile))), limits, true))
          .hostnameVerifier(CERTIFIED_NAME);
    } else {
      builder.sslSocketFactory(GuardedSockets.tls(tls(new RequireHttp2(new HandshakeVerifiedTrust())), limits, false))
          .hostnameVerifier(ANY_NAME);
    }
    return builder
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
   * With a CA file: the name the delegate dialled must be one the certificate holds. OkHttp's own
   * check compares an IP address as text, so that {@code ::1} never matches the
   * {@code 0:0:0:0:0:0:0:1} the JDK reports for the certificate; addresses are compared as
   * addresses here, names by OkHttp's check.
   */
  static final HostnameVerifier CERTIFIED_NAME = (host, session) -> {
    if (!InetAddresses.isInetAddress(host)) {
      return OkHostnameVerifier.INSTANCE.verify(host, session);
    }
    InetAddress dialled = InetAddresses.forString(host);
    try {
      Certificate[] chain = session.getPeerCertificates();
      if (chain.length == 0 || !(chain[0] instanceof X509Certificate leaf)
          || leaf.getSubjectAlternativeNames() == null) {
        return false;
      }
      for (List<?> name : leaf.getSubjectAlternativeNames()) {
        // type 7: iPAddress, given by the JDK as text
        if (name.size() == 2 && Integer.valueOf(7).equals(name.get(0)) && name.get(1) instanceof String text
            && InetAddresses.isInetAddress(text) && InetAddresses.forString(text).equals(dialled)) {
          return true;
        }
      }
      return false;
    } catch (SSLPeerUnverifiedException | CertificateParsingException e) {
      return false;
    }
  };

  /**
   * Without a CA file the name the delegate dialled is not checked against the certificate either:
   * the handshake proves the manager (the certificate may name another host, or none).
   */
  private static final HostnameVerifier ANY_NAME = (host, session) -> true;

  private static SSLSocketFactory tls(TrustManager trust) {
    try {
      SSLContext context = SSLContext.getInstance("TLS");
      context.init(null, new TrustManager[] {trust}, null);
      return context.getSocketFactory();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("this JVM cannot set up TLS: " + e.getMessage(), e);
    }
  }

  private static final String WHICH_CERTIFICATE = "give the PEM certificate of the CA that signed the manager's"
      + " certificate, or the manager's own (tls/manager.crt in its data directory)";

  /**
   * The JDK's certificate checks, anchored at the certificates of {@code caFile} (PEM); the
   * configuration checks the file with this at start, so that a wrong file stops the delegate at once.
   *
   * @throws IllegalArgumentException naming the file and what it should hold
   */
  public static X509ExtendedTrustManager caTrust(Path caFile) {
    Collection<? extends Certificate> certificates;
    try (InputStream in = Files.newInputStream(caFile)) {
      certificates = CertificateFactory.getInstance("X.509").generateCertificates(in);
    } catch (IOException e) {
      throw new IllegalArgumentException("MANAGER_CA_FILE " + UserText.quote(caFile.toString()) + " cannot be read ("
          + e.getClass().getSimpleName() + ")", e);
    } catch (CertificateException e) {
      throw new IllegalArgumentException("MANAGER_CA_FILE " + UserText.quote(caFile.toString())
          + " holds no PEM certificate (" + e.getMessage() + "): " + WHICH_CERTIFICATE, e);
    }
    if (certificates.isEmpty()) {
      throw new IllegalArgumentException("MANAGER_CA_FILE " + UserText.quote(caFile.toString())
          + " holds no certificate: " + WHICH_CERTIFICATE);
    }
    try {
      KeyStore anchors = KeyStore.getInstance("JKS");
      anchors.load(null, null);
      int i = 0;
      for (Certificate certificate : certificates) {
        anchors.setCertificateEntry("ca-" + i++, certificate);
      }
      TrustManagerFactory factory = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      factory.init(anchors);
      for (TrustManager trust : factory.getTrustManagers()) {
        if (trust instanceof X509ExtendedTrustManager x509) {
          return x509;
        }
      }
      throw new IllegalStateException("this JVM has no extended X.509 trust manager (ssl.TrustManagerFactory.algorithm "
          + TrustManagerFactory.getDefaultAlgorithm() + ")");
    } catch (GeneralSecurityException | IOException e) {
      throw new IllegalStateException("this JVM cannot set up TLS: " + e.getMessage(), e);
    }
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

  /** What a delegate's TLS handshake fails with when the server did not agree to HTTP/2 (ALPN h2). */
  public static final String NO_HTTP2 = "the server did not agree to ALPN protocol h2";

  /**
   * Refuses, inside the TLS handshake, a server that did not agree to HTTP/2, then checks the
   * certificate with {@code trust}. gRPC's OkHttp transport makes these two checks, the protocol and
   * the host name, only after the handshake, and a connection that fails them is never closed: a
   * delegate pointed at a web server, or at a name its CA file's certificate does not hold, kept one
   * open socket per attempt until a garbage collection (29 in its first 70 s). A handshake that
   * fails is closed by the JDK. With a CA file, the host name is checked here too:
   * {@link GuardedSockets} turns on the JDK's endpoint identification, which {@code trust} (the
   * JDK's own trust manager) applies.
   */
  static final class RequireHttp2 extends ServerTrust {
    private final X509ExtendedTrustManager trust;

    /**
     * {@code trust} is an extended trust manager, given the socket: the JDK adds the algorithm
     * constraints and the endpoint identification only through that (it would wrap a plain one in
     * its own, which this class replaces).
     */
    RequireHttp2(X509ExtendedTrustManager trust) {
      this.trust = trust;
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket) throws CertificateException {
      if (socket instanceof javax.net.ssl.SSLSocket tls) {
        String protocol = tls.getHandshakeApplicationProtocol();
        // null: not known at this point of the handshake; the transport's own check still applies
        if (protocol != null && !protocol.equals("h2")) {
          throw new CertificateException(NO_HTTP2 + " (it chose " + (protocol.isEmpty() ? "none" : protocol) + ")");
        }
      }
      trust.checkServerTrusted(chain, authType, socket);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine) throws CertificateException {
      trust.checkServerTrusted(chain, authType, engine);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
      trust.checkServerTrusted(chain, authType);
    }

    @Override
    public X509Certificate[] getAcceptedIssuers() {
      return trust.getAcceptedIssuers();
    }
  }

  /**
   * Accepts the presented certificate at the TLS layer; the handshake then checks that the peer
   * holding that certificate knows the token. Never used without the handshake.
   */
  static final class HandshakeVerifiedTrust extends ServerTrust {
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
    public X509Certificate[] getAcceptedIssuers() {
      return new X509Certificate[0];
    }

    private static void requireChain(X509Certificate[] chain) {
      if (chain == null || chain.length == 0) {
        throw new IllegalArgumentException("the manager presented no certificate");
      }
    }
  }

  /** A trust manager of a TLS client: it is never asked about client certificates. */
  abstract static class ServerTrust extends X509ExtendedTrustManager {
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
  }
}
