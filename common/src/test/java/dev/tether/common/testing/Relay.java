package dev.tether.common.testing;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyFactory;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509TrustManager;

/**
 * A man in the middle for tests, on loopback, in front of a TLS manager.
 * <ul>
 *   <li>{@link Mode#PASS_THROUGH} copies bytes untouched: the control.</li>
 *   <li>{@link Mode#TERMINATE_TLS} terminates TLS with its own certificate, as a TLS-terminating
 *       proxy would, reads the client's HTTP/2 frames in the clear and relays them over its own
 *       TLS connection to the manager.</li>
 *   <li>{@link Mode#HIJACK} is the attack of the second security review: the first connection
 *       passes untouched, so the handshake succeeds end to end; the relay reads only TLS record
 *       sizes, recognises the delegate's Prove, lets the manager's answer (Accepted) through, then
 *       resets the connection before the delegate opens its stream, and terminates TLS itself for
 *       every later connection, hoping the delegate carries its session over.</li>
 * </ul>
 */
public final class Relay implements AutoCloseable {

  public enum Mode { PASS_THROUGH, TERMINATE_TLS, HIJACK }

  private static final int TLS_APPLICATION_DATA = 23;
  /** A record this large from the client is a call's HEADERS (the Handshake call's, then the stream's). */
  private static final int CALL_HEADERS_RECORD = 150;

  private final ServerSocket server;
  private final int upstreamPort;
  private final SSLContext ownCertificate;
  private final List<Socket> sockets = new CopyOnWriteArrayList<>();
  private final List<Integer> clientFrameTypes = new CopyOnWriteArrayList<>();
  private final AtomicInteger connections = new AtomicInteger();
  private final AtomicInteger terminated = new AtomicInteger();
  private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
    Thread t = new Thread(r, "relay-timer");
    t.setDaemon(true);
    return t;
  });
  private volatile Mode mode;
  private volatile boolean hijacked;
  private final Thread acceptor;

  /**
   * A relay to {@code upstreamPort} on loopback; {@code certificate} and {@code privateKey} (PEM,
   * PKCS#8 EC key) are the relay's own, used when it terminates TLS (null for pass-through only).
   */
  public Relay(Mode mode, int upstreamPort, Path certificate, Path privateKey) throws Exception {
    this.mode = mode;
    this.upstreamPort = upstreamPort;
    this.ownCertificate = certificate == null ? null : serverContext(certificate, privateKey);
    server = new ServerSocket();
    server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
    acceptor = new Thread(this::acceptLoop, "relay-accept");
    acceptor.setDaemon(true);
    acceptor.start();
  }

  public int port() {
    return server.getLocalPort();
  }

  /** Connections accepted so far. */
  public int connections() {
    return connections.get();
  }

  /** Connections on which the relay terminated TLS with its own certificate. */
  public int terminatedConnections() {
    return terminated.get();
  }

  /** Whether a {@link Mode#HIJACK} relay has reset the handshake's connection and switched to terminating. */
  public boolean hijacked() {
    return hijacked;
  }

  /**
   * The HTTP/2 frame types the client sent on terminated connections, as the relay read them in
   * the clear: a HEADERS frame (type 1) is a call, with its metadata.
   */
  public List<Integer> clientFrameTypes() {
    return clientFrameTypes;
  }

  /** Changes how later connections are treated. */
  public void switchTo(Mode next) {
    mode = next;
  }

  /** Closes every connection open now. */
  public void resetAll() {
    for (Socket s : sockets) {
      closeQuietly(s);
    }
    sockets.clear();
  }

  private void acceptLoop() {
    while (!server.isClosed()) {
      try {
        Socket client = server.accept();
        connections.incrementAndGet();
        sockets.add(client);
        Mode now = mode;
        if (now == Mode.PASS_THROUGH || (now == Mode.HIJACK && !hijacked)) {
          Socket upstream = new Socket(InetAddress.getLoopbackAddress(), upstreamPort);
          sockets.add(upstream);
          if (now == Mode.HIJACK) {
            watchForTheHandshake(client, upstream);
          } else {
            pipe(client.getInputStream(), upstream.getOutputStream(), null);
            pipe(upstream.getInputStream(), client.getOutputStream(), null);
          }
        } else {
          terminate(client);
        }
      } catch (Exception e) {
        if (server.isClosed()) {
          return;
        }
      }
    }
  }

  private void terminate(Socket client) throws Exception {
    if (ownCertificate == null) {
      throw new IllegalStateException("a terminating relay needs its own certificate");
    }
    SSLSocket tls = (SSLSocket) ownCertificate.getSocketFactory().createSocket(client, null, client.getPort(), true);
    tls.setUseClientMode(false);
    SSLParameters params = tls.getSSLParameters();
    params.setApplicationProtocols(new String[] {"h2"});
    tls.setSSLParameters(params);
    tls.startHandshake();
    terminated.incrementAndGet();
    SSLContext context = SSLContext.getInstance("TLS");
    context.init(null, new TrustManager[] {new AnyCertificate()}, new SecureRandom());
    SSLSocket upstream = (SSLSocket) context.getSocketFactory().createSocket(InetAddress.getLoopbackAddress(), upstreamPort);
    SSLParameters up = upstream.getSSLParameters();
    up.setApplicationProtocols(new String[] {"h2"});
    upstream.setSSLParameters(up);
    upstream.startHandshake();
    sockets.add(tls);
    sockets.add(upstream);
    pipe(tls.getInputStream(), upstream.getOutputStream(), clientFrameTypes);
    pipe(upstream.getInputStream(), tls.getOutputStream(), null);
  }

  /**
   * Forwards the first connection record by record, reading only the records' types and sizes, as
   * the attacker did. The client's first large record is the Handshake call's HEADERS; the
   * manager's first large record after it is the Challenge; the client's next record of Prove's
   * size (60 bytes or more: smaller ones are HTTP/2 control frames) is Prove. Every record from the
   * manager after that is forwarded (Accepted and the call's end among them), and when the manager
   * has been quiet for 3 ms, or the client starts its stream, the relay resets the connection.
   */
  private void watchForTheHandshake(Socket client, Socket upstream) throws IOException {
    AtomicInteger clientCallHeaders = new AtomicInteger();
    java.util.concurrent.atomic.AtomicBoolean challenged = new java.util.concurrent.atomic.AtomicBoolean();
    java.util.concurrent.atomic.AtomicBoolean proved = new java.util.concurrent.atomic.AtomicBoolean();
    ScheduledFuture<?>[] pendingReset = {null};
    Runnable reset = () -> {
      if (!hijacked) {
        hijacked = true;
        mode = Mode.TERMINATE_TLS;
        closeQuietly(client);
        closeQuietly(upstream);
      }
    };
    records(client.getInputStream(), upstream.getOutputStream(), (type, length) -> {
      if (type != TLS_APPLICATION_DATA) {
        return true;
      }
      if (length >= CALL_HEADERS_RECORD && clientCallHeaders.incrementAndGet() == 2) {
        // the stream's HEADERS, with the session metadata: never let it reach the manager
        timer.execute(reset);
        return false;
      }
      if (challenged.get() && length >= 60) {
        proved.set(true);
      }
      return true;
    });
    records(upstream.getInputStream(), client.getOutputStream(), (type, length) -> {
      if (type != TLS_APPLICATION_DATA || clientCallHeaders.get() == 0) {
        return true;
      }
      if (length >= CALL_HEADERS_RECORD) {
        challenged.set(true);
      }
      if (proved.get()) {
        synchronized (pendingReset) {
          if (pendingReset[0] != null) {
            pendingReset[0].cancel(false);
          }
          pendingReset[0] = timer.schedule(reset, 3, TimeUnit.MILLISECONDS);
        }
      }
      return true;
    });
  }

  /** Decides, per TLS record (content type and length), whether to forward it. */
  private interface RecordFilter {
    boolean forward(int type, int length);
  }

  private static void records(InputStream from, OutputStream to, RecordFilter filter) {
    Thread t = new Thread(() -> {
      try (DataInputStream in = new DataInputStream(from); to) {
        byte[] header = new byte[5];
        while (true) {
          in.readFully(header);
          int length = ((header[3] & 0xff) << 8) | (header[4] & 0xff);
          byte[] body = new byte[length];
          in.readFully(body);
          if (!filter.forward(header[0] & 0xff, length)) {
            return;
          }
          synchronized (to) {
            to.write(header);
            to.write(body);
            to.flush();
          }
        }
      } catch (IOException e) {
        // one side closed: the relay ends this connection
      }
    }, "relay-records");
    t.setDaemon(true);
    t.start();
  }

  /** Copies bytes; with {@code frameTypes}, also parses the client's HTTP/2 frames and records their types. */
  private static void pipe(InputStream in, OutputStream out, List<Integer> frameTypes) {
    Thread t = new Thread(() -> {
      Http2FrameReader frames = frameTypes == null ? null : new Http2FrameReader(frameTypes);
      byte[] buffer = new byte[16 * 1024];
      try (in; out) {
        int n;
        while ((n = in.read(buffer)) >= 0) {
          if (frames != null) {
            frames.feed(buffer, n);
          }
          out.write(buffer, 0, n);
          out.flush();
        }
      } catch (IOException e) {
        // one side closed: the relay ends this connection
      }
    }, "relay-pipe");
    t.setDaemon(true);
    t.start();
  }

  /** Reads the frame headers of a client's HTTP/2 byte stream (after the 24-byte preface). */
  private static final class Http2FrameReader {
    private final List<Integer> types;
    private final java.io.ByteArrayOutputStream pending = new java.io.ByteArrayOutputStream();
    private boolean prefaceSkipped;

    Http2FrameReader(List<Integer> types) {
      this.types = types;
    }

    void feed(byte[] bytes, int n) {
      pending.write(bytes, 0, n);
      byte[] all = pending.toByteArray();
      int at = 0;
      if (!prefaceSkipped) {
        if (all.length < 24) {
          return;
        }
        at = 24;
        prefaceSkipped = true;
      }
      while (all.length - at >= 9) {
        int length = ((all[at] & 0xff) << 16) | ((all[at + 1] & 0xff) << 8) | (all[at + 2] & 0xff);
        if (all.length - at < 9 + length) {
          break;
        }
        types.add(all[at + 3] & 0xff);
        at += 9 + length;
      }
      pending.reset();
      pending.write(all, at, all.length - at);
    }
  }

  private static SSLContext serverContext(Path certificate, Path privateKey) throws Exception {
    String pem = Files.readString(privateKey);
    String base64 = pem.replaceAll("-----[A-Z ]+-----", "").replaceAll("\\s", "");
    PrivateKey key = KeyFactory.getInstance("EC").generatePrivate(new PKCS8EncodedKeySpec(Base64.getDecoder().decode(base64)));
    X509Certificate cert;
    try (InputStream in = Files.newInputStream(certificate)) {
      cert = (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(in);
    }
    KeyStore store = KeyStore.getInstance("PKCS12");
    store.load(null, null);
    store.setKeyEntry("relay", key, new char[0], new Certificate[] {cert});
    KeyManagerFactory factory = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
    factory.init(store, new char[0]);
    SSLContext context = SSLContext.getInstance("TLS");
    context.init(factory.getKeyManagers(), null, new SecureRandom());
    return context;
  }

  private static void closeQuietly(Socket socket) {
    try {
      socket.close();
    } catch (IOException e) {
      // closing anyway
    }
  }

  /** The relay does not care whom it talks to. */
  private static final class AnyCertificate implements X509TrustManager {
    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType) { }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType) { }

    @Override
    public X509Certificate[] getAcceptedIssuers() {
      return new X509Certificate[0];
    }
  }

  @Override
  public void close() throws IOException {
    timer.shutdownNow();
    server.close();
    resetAll();
  }
}
