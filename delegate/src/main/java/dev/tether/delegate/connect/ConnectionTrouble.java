package dev.tether.delegate.connect;

import dev.tether.common.text.UserText;
import dev.tether.delegate.config.ManagerEndpoint;
import io.grpc.Status;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.Arrays;
import java.util.Optional;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLHandshakeException;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509TrustManager;

/**
 * Says what went wrong when the delegate could not reach the manager, in words a person can act
 * on: the connection was refused, the host name does not resolve, nothing answered, one side
 * speaks TLS and the other does not, the server speaks TLS but not HTTP/2, or it speaks plaintext
 * HTTP/1 (a web server, the manager's metrics port). gRPC reports most of these as UNAVAILABLE
 * ("io exception", "Network closed for unknown reason"), and an HTTP/1 answer to a plaintext
 * connection as INTERNAL ("error in frame handler"); the cause chain tells most apart, and for a
 * closed connection a single probe of the port tells which protocol the server speaks.
 */
public final class ConnectionTrouble {

  /** How long a probe of the manager's port may take, connection and answer each. */
  static final Duration PROBE_TIMEOUT = Duration.ofSeconds(3);

  private static final byte[] HTTP2_PREFACE = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
  /** An empty SETTINGS frame: length 0, type 4, no flags, stream 0. */
  private static final byte[] EMPTY_SETTINGS = {0, 0, 0, 4, 0, 0, 0, 0, 0};

  private ConnectionTrouble() {}

  /**
   * What the failure that ended an attempt with {@code status} means, or empty when it is none of
   * the cases this class knows (the caller then shows the status as it is).
   *
   * @param caFile whether the delegate verifies the manager's certificate with MANAGER_CA_FILE
   */
  public static Optional<String> explain(Status status, ManagerEndpoint endpoint, boolean caFile) {
    if (status == null) {
      return Optional.empty();
    }
    String at = hostPort(endpoint);
    if (status.getCode() == Status.Code.INTERNAL && !endpoint.tls()) {
      // gRPC's frame reader fails on an answer that is no HTTP/2 frame ("error in frame handler")
      return plaintextAnswer(endpoint) == PlaintextAnswer.HTTP1 ? Optional.of(http1(at)) : Optional.empty();
    }
    if (status.getCode() != Status.Code.UNAVAILABLE) {
      return Optional.empty();
    }
    for (Throwable t = status.getCause(); t != null; t = t.getCause()) {
      if (t instanceof UnknownHostException) {
        return Optional.of("cannot resolve the manager's host name " + UserText.quote(endpoint.host())
            + " (is the host name in MANAGER_HOST_AND_PORT right, and is DNS reachable from here?)");
      }
      if (t instanceof ConnectException || t instanceof SocketException) {
        String message = String.valueOf(t.getMessage());
        if (t.getClass().getSimpleName().equals("ConnectTimeoutException") || message.contains("timed out")) {
          return Optional.of("no answer from " + at + " (the connection timed out: is the manager running there,"
              + " and does every firewall on the way let the connection through?)");
        }
        if (message.contains("Connection refused")) {
          return Optional.of("connection refused at " + at
              + " (is the manager running, and is MANAGER_HOST_AND_PORT right?)");
        }
        return Optional.of("cannot connect to " + at + ": " + lastPart(message)
            + " (is MANAGER_HOST_AND_PORT right, and is the network up?)");
      }
    }
    if (endpoint.tls()) {
      if (refusedHttp2(status)) {
        return Optional.of("the server at " + at + " speaks TLS but not HTTP/2 (it did not agree to ALPN protocol"
            + " h2), so it is no Tether manager: MANAGER_HOST_AND_PORT must name the manager's delegate listener"
            + " (serve --listen, port 7443 by default), not a web server, or a proxy or load balancer that does not"
            + " pass HTTP/2 on");
      }
      SSLException tls = sslCause(status);
      if (tls == null) {
        // A plaintext server may also just end the connection on a ClientHello: no SSL error and no
        // description. Only then is the port probed, so that delegates whose manager ended their
        // connections (a restart, which says why) do not all probe it at once.
        return status.getDescription() == null && plaintextAnswer(endpoint) == PlaintextAnswer.HTTP1
            ? Optional.of(http1(at)) : Optional.empty();
      }
      PlaintextAnswer plaintext = plaintextAnswer(endpoint);
      if (plaintext == PlaintextAnswer.HTTP2) {
        return Optional.of("the manager at " + at + " speaks plaintext, not TLS (it runs with --plaintext): use"
            + " http://" + at + " in MANAGER_HOST_AND_PORT, or run the manager without --plaintext");
      }
      if (plaintext == PlaintextAnswer.HTTP1) {
        return Optional.of(http1(at));
      }
      if (caFile && tls instanceof SSLHandshakeException && dialledNameNotHeld(tls)) {
        return Optional.of("the manager's TLS certificate at " + at + " does not hold the name or address the"
            + " delegate dialled (" + lastPart(tls.getMessage()) + "): name the manager in MANAGER_HOST_AND_PORT"
            + " as its certificate does, or give the manager a certificate that holds " + UserText.quote(endpoint.host()));
      }
      if (caFile && tls instanceof SSLHandshakeException) {
        return Optional.of("the manager's TLS certificate at " + at + " did not verify with MANAGER_CA_FILE ("
            + lastPart(tls.getMessage()) + "): give the CA that signed the manager's certificate, or the"
            + " manager's own certificate (tls/manager.crt in its data directory)");
      }
      return Optional.of("TLS with " + at + " failed: " + lastPart(tls.getMessage()));
    }
    if (speaksTls(endpoint)) {
      return Optional.of("the manager at " + at + " speaks TLS: use https://" + at
          + " in MANAGER_HOST_AND_PORT (http:// is only for a manager run with --plaintext)");
    }
    return Optional.empty();
  }

  /** HOST:PORT, with an IPv6 address in brackets. */
  static String hostPort(ManagerEndpoint endpoint) {
    String host = endpoint.host();
    return (host.contains(":") ? "[" + host + "]" : host) + ":" + endpoint.port();
  }

  private static SSLException sslCause(Status status) {
    for (Throwable t = status.getCause(); t != null; t = t.getCause()) {
      if (t instanceof SSLException ssl) {
        return ssl;
      }
    }
    return null;
  }

  /**
   * Whether TLS was set up but the server did not agree to HTTP/2. gRPC's OkHttp transport then
   * fails with no SSLException: on the JDK a server that ignores the ALPN offer (a web server, a
   * proxy without HTTP/2) leaves the protocol empty, and OkHttpTlsUpgrader throws the IOException
   * "Unexpected protocol: ". That message is the only sign of it; DelegateTransportMismatchTest
   * notices if a new gRPC changes it.
   */
  private static boolean refusedHttp2(Status status) {
    for (Throwable t = status.getCause(); t != null; t = t.getCause()) {
      String message = String.valueOf(t.getMessage());
      // the first: refused in the handshake (Channels.RequireHttp2); the second: by the transport after it
      if (message.startsWith(Channels.NO_HTTP2) || message.startsWith("Unexpected protocol: ")) {
        return true;
      }
    }
    return false;
  }

  /**
   * Whether the JDK's endpoint identification refused the certificate because it does not hold the
   * name or address dialled (its messages: "No subject alternative names matching IP address ...",
   * "No subject alternative DNS name matching ...", "No name matching ...", and "Illegal given
   * domain name: ..." for a name no certificate can hold).
   */
  private static boolean dialledNameNotHeld(SSLException tls) {
    for (Throwable t = tls; t != null; t = t.getCause()) {
      String message = String.valueOf(t.getMessage());
      if (message.contains("No subject alternative") || message.contains("No name matching")
          || message.contains("Illegal given domain name")) {
        return true;
      }
    }
    return false;
  }

  /** The first line of an exception message, after Netty's "syscall(..) failed with error(-N): " prefix. */
  private static String lastPart(String message) {
    if (message == null) {
      return "no detail";
    }
    String line = message.lines().findFirst().orElse("");
    int colon = line.lastIndexOf("): ");
    return colon >= 0 ? line.substring(colon + 3) : line;
  }

  /** A plaintext HTTP/1 server: a web server, or the manager's metrics and health port. */
  private static String http1(String at) {
    return "the server at " + at + " speaks plaintext HTTP/1, not HTTP/2, so it is no Tether manager (is it the"
        + " manager's metrics and health port, --ops-listen, 9464 by default?): MANAGER_HOST_AND_PORT must name"
        + " the manager's delegate listener (serve --listen, port 7443 by default)";
  }

  /** What a port answers to the HTTP/2 connection preface sent in plaintext. */
  enum PlaintextAnswer {
    /** A SETTINGS frame: an HTTP/2 server, such as a manager run with --plaintext. */
    HTTP2,
    /** An HTTP/1 status line: a web server or the ops listener, which read the preface as a bad request. */
    HTTP1,
    /** Anything else, or nothing. */
    OTHER
  }

  private static final byte[] HTTP1_STATUS_LINE = "HTTP/1.".getBytes(StandardCharsets.US_ASCII);

  static PlaintextAnswer plaintextAnswer(ManagerEndpoint endpoint) {
    try (Socket socket = new Socket()) {
      socket.connect(new InetSocketAddress(endpoint.host(), endpoint.port()), (int) PROBE_TIMEOUT.toMillis());
      socket.setSoTimeout((int) PROBE_TIMEOUT.toMillis());
      OutputStream out = socket.getOutputStream();
      out.write(HTTP2_PREFACE);
      out.write(EMPTY_SETTINGS);
      out.flush();
      InputStream in = socket.getInputStream();
      byte[] header = in.readNBytes(9);
      // a frame header whose type is SETTINGS (4) on stream 0: what an HTTP/2 server sends first
      if (header.length == 9 && header[3] == 4 && header[5] == 0 && header[6] == 0 && header[7] == 0
          && header[8] == 0) {
        return PlaintextAnswer.HTTP2;
      }
      return Arrays.equals(header, 0, Math.min(header.length, HTTP1_STATUS_LINE.length), HTTP1_STATUS_LINE, 0,
          HTTP1_STATUS_LINE.length) ? PlaintextAnswer.HTTP1 : PlaintextAnswer.OTHER;
    } catch (IOException e) {
      return PlaintextAnswer.OTHER;
    }
  }

  /**
   * Whether the port completes a TLS handshake. The probe accepts any certificate: it sends
   * nothing but its ClientHello, reads nothing but the handshake, and only tells which protocol
   * the port speaks; the real connection still proves the manager with the token.
   */
  static boolean speaksTls(ManagerEndpoint endpoint) {
    try (Socket plain = new Socket()) {
      plain.connect(new InetSocketAddress(endpoint.host(), endpoint.port()), (int) PROBE_TIMEOUT.toMillis());
      plain.setSoTimeout((int) PROBE_TIMEOUT.toMillis());
      SSLContext context = SSLContext.getInstance("TLS");
      context.init(null, new TrustManager[] {new AnyCertificate()}, null);
      try (SSLSocket tls = (SSLSocket) context.getSocketFactory().createSocket(plain, endpoint.host(),
          endpoint.port(), false)) {
        SSLParameters parameters = tls.getSSLParameters();
        parameters.setApplicationProtocols(new String[] {"h2"});
        tls.setSSLParameters(parameters);
        tls.startHandshake();
        return true;
      }
    } catch (IOException | GeneralSecurityException e) {
      return false;
    }
  }

  /** Trusts any server certificate; used only by {@link #speaksTls}, which trusts nothing it is sent. */
  private static final class AnyCertificate implements X509TrustManager {
    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType) {
      throw new UnsupportedOperationException("the probe checks no client certificate");
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType) {
      // the probe only asks whether the port speaks TLS
    }

    @Override
    public X509Certificate[] getAcceptedIssuers() {
      return new X509Certificate[0];
    }
  }
}
