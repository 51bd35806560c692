package dev.tether.delegate.connect;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketAddress;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.util.function.LongSupplier;
import javax.net.SocketFactory;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.SSLSocketFactory;

/**
 * The sockets under the delegate's connection, with the limits gRPC's OkHttp transport does not
 * set itself, for a peer that has not yet proved to be the manager (an impostor behind a hijacked
 * name, a load balancer without a backend):
 *
 * <ul>
 *   <li>a connection attempt gives up after {@link #CONNECT_TIMEOUT};
 *   <li>a TLS handshake that gets no answer for {@link #TLS_TIMEOUT} fails and closes its socket
 *       (the transport itself waits forever, leaving a thread and a socket behind every attempt);
 *   <li>the peer may send at most {@link #BURST_BYTES} at once and {@link #BYTES_PER_SECOND} after
 *       that: the transport assembles an HTTP/2 header block in memory however long it is, so a
 *       peer sending one without end would otherwise fill the heap. A manager sends a few hundred
 *       bytes a heartbeat and messages of at most 64 KiB; a connection over the limit is closed,
 *       and the delegate reconnects as after any lost connection.
 * </ul>
 */
final class GuardedSockets {

  static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(10);
  static final Duration TLS_TIMEOUT = Duration.ofSeconds(10);
  static final long BURST_BYTES = 1024 * 1024;
  static final long BYTES_PER_SECOND = 256 * 1024;

  private GuardedSockets() {}

  /** Plain sockets with the connect timeout and the byte limit. */
  static SocketFactory plain(Limits limits) {
    return new Plain(limits);
  }

  /**
   * TLS over {@code plain}'s sockets, with the handshake timeout on top; with {@code identifyEndpoint}
   * the JDK checks in the handshake that the certificate holds the name or address dialled (RFC 2818,
   * addresses compared as addresses).
   */
  static SSLSocketFactory tls(SSLSocketFactory tls, Limits limits, boolean identifyEndpoint) {
    return new Tls(tls, limits, identifyEndpoint);
  }

  /** The limits, as values so that tests can make them small. */
  record Limits(Duration connectTimeout, Duration tlsTimeout, long burstBytes, long bytesPerSecond,
      LongSupplier nanoTime) {

    static final Limits DEFAULT = new Limits(CONNECT_TIMEOUT, TLS_TIMEOUT, BURST_BYTES, BYTES_PER_SECOND,
        System::nanoTime);
  }

  /** A socket whose input is metered, and which times out reads until its TLS handshake is done. */
  static final class GuardedSocket extends Socket {
    private final Limits limits;
    private volatile InputStream metered;

    GuardedSocket(Limits limits) {
      this.limits = limits;
    }

    @Override
    public void connect(SocketAddress endpoint, int timeout) throws IOException {
      int bound = (int) limits.connectTimeout().toMillis();
      super.connect(endpoint, timeout == 0 ? bound : Math.min(timeout, bound));
    }

    @Override
    public InputStream getInputStream() throws IOException {
      InputStream in = metered;
      if (in == null) {
        synchronized (this) {
          if (metered == null) {
            metered = new Metered(super.getInputStream(), limits, this);
          }
          in = metered;
        }
      }
      return in;
    }

    /** Reads time out while a TLS handshake is under way. */
    void handshaking() throws SocketException {
      setSoTimeout((int) limits.tlsTimeout().toMillis());
    }

    /** The handshake is done: reads wait as long as it takes again (keepalive watches the connection). */
    void handshakeDone() {
      try {
        setSoTimeout(0);
      } catch (SocketException closed) {
        // closed meanwhile: nothing left to wait for
      }
    }
  }

  /**
   * Counts what the peer sends against a bucket of {@code burstBytes}, refilled at
   * {@code bytesPerSecond}; closes the socket and fails the read when a read would overdraw it.
   * A read that times out (only while a TLS handshake is under way) closes the socket too.
   */
  static final class Metered extends FilterInputStream {
    private final Limits limits;
    private final Socket socket;
    private double available;
    private long refilledAt;

    Metered(InputStream in, Limits limits, Socket socket) {
      super(in);
      this.limits = limits;
      this.socket = socket;
      this.available = limits.burstBytes();
      this.refilledAt = limits.nanoTime().getAsLong();
    }

    @Override
    public int read() throws IOException {
      byte[] one = new byte[1];
      int n = read(one, 0, 1);
      return n < 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
      int n;
      try {
        n = in.read(b, off, len);
      } catch (SocketTimeoutException e) {
        socket.close();
        throw new SocketTimeoutException("no TLS answer within " + limits.tlsTimeout().toSeconds() + " s");
      }
      if (n > 0) {
        charge(n);
      }
      return n;
    }

    private synchronized void charge(int n) throws IOException {
      long now = limits.nanoTime().getAsLong();
      available = Math.min(limits.burstBytes(),
          available + (now - refilledAt) / 1e9 * limits.bytesPerSecond());
      refilledAt = now;
      available -= n;
      if (available < 0) {
        socket.close();
        throw new IOException("the peer sent more than " + size(limits.burstBytes()) + " at once, or more than "
            + size(limits.bytesPerSecond()) + " a second after that: far more than a manager sends; connection"
            + " closed");
      }
    }
  }

  static String size(long bytes) {
    if (bytes >= 1024 * 1024 && bytes % (1024 * 1024) == 0) {
      return bytes / (1024 * 1024) + " MiB";
    }
    return bytes >= 1024 && bytes % 1024 == 0 ? bytes / 1024 + " KiB" : bytes + " bytes";
  }

  private static final class Plain extends SocketFactory {
    private final Limits limits;

    Plain(Limits limits) {
      this.limits = limits;
    }

    @Override
    public Socket createSocket() {
      return new GuardedSocket(limits);
    }

    @Override
    public Socket createSocket(String host, int port) throws IOException {
      return connected(new InetSocketAddress(host, port), null);
    }

    @Override
    public Socket createSocket(String host, int port, InetAddress localHost, int localPort) throws IOException {
      return connected(new InetSocketAddress(host, port), new InetSocketAddress(localHost, localPort));
    }

    @Override
    public Socket createSocket(InetAddress host, int port) throws IOException {
      return connected(new InetSocketAddress(host, port), null);
    }

    @Override
    public Socket createSocket(InetAddress address, int port, InetAddress localAddress, int localPort)
        throws IOException {
      return connected(new InetSocketAddress(address, port), new InetSocketAddress(localAddress, localPort));
    }

    private Socket connected(InetSocketAddress remote, InetSocketAddress local) throws IOException {
      GuardedSocket socket = new GuardedSocket(limits);
      try {
        if (local != null) {
          socket.bind(local);
        }
        socket.connect(remote, 0);
        return socket;
      } catch (IOException e) {
        socket.close();
        throw e;
      }
    }
  }

  private static final class Tls extends SSLSocketFactory {
    private final SSLSocketFactory tls;
    private final Plain sockets;
    private final boolean identifyEndpoint;

    Tls(SSLSocketFactory tls, Limits limits, boolean identifyEndpoint) {
      this.tls = tls;
      this.sockets = new Plain(limits);
      this.identifyEndpoint = identifyEndpoint;
    }

    @Override
    public Socket createSocket(Socket plain, String host, int port, boolean autoClose) throws IOException {
      SSLSocket socket = (SSLSocket) tls.createSocket(plain, host, port, autoClose);
      if (identifyEndpoint) {
        SSLParameters parameters = socket.getSSLParameters();
        parameters.setEndpointIdentificationAlgorithm("HTTPS");
        socket.setSSLParameters(parameters);
      }
      if (plain instanceof GuardedSocket guarded) {
        guarded.handshaking();
        socket.addHandshakeCompletedListener(done -> guarded.handshakeDone());
      }
      return socket;
    }

    @Override
    public Socket createSocket(String host, int port) throws IOException {
      return createSocket(sockets.createSocket(host, port), host, port, true);
    }

    @Override
    public Socket createSocket(String host, int port, InetAddress localHost, int localPort) throws IOException {
      return createSocket(sockets.createSocket(host, port, localHost, localPort), host, port, true);
    }

    @Override
    public Socket createSocket(InetAddress host, int port) throws IOException {
      return createSocket(sockets.createSocket(host, port), host.getHostAddress(), port, true);
    }

    @Override
    public Socket createSocket(InetAddress address, int port, InetAddress localAddress, int localPort)
        throws IOException {
      return createSocket(sockets.createSocket(address, port, localAddress, localPort),
          address.getHostAddress(), port, true);
    }

    @Override
    public String[] getDefaultCipherSuites() {
      return tls.getDefaultCipherSuites();
    }

    @Override
    public String[] getSupportedCipherSuites() {
      return tls.getSupportedCipherSuites();
    }
  }
}
