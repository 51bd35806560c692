package dev.tether.e2e;

import dev.tether.manager.tls.TlsMaterial;
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
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLServerSocket;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509TrustManager;

/**
 * A man in the middle for tests: accepts connections on loopback and relays them to the manager.
 * In {@link Mode#TERMINATE_TLS} it terminates TLS with its own certificate (as a TLS-terminating
 * proxy would) and opens its own TLS connection to the manager; in {@link Mode#PASS_THROUGH} it
 * copies bytes untouched.
 */
final class Relay implements AutoCloseable {

  enum Mode { TERMINATE_TLS, PASS_THROUGH }

  private final ServerSocket server;
  private final int upstreamPort;
  private final Mode mode;
  private final List<Socket> sockets = new CopyOnWriteArrayList<>();
  private final Thread acceptor;

  Relay(Mode mode, int upstreamPort, Path workDir) throws Exception {
    this.mode = mode;
    this.upstreamPort = upstreamPort;
    if (mode == Mode.TERMINATE_TLS) {
      TlsMaterial own = TlsMaterial.loadOrGenerate(workDir.resolve("relay-tls"), List.of());
      SSLContext context = SSLContext.getInstance("TLS");
      context.init(keyManagers(own), null, new SecureRandom());
      SSLServerSocket tls = (SSLServerSocket) context.getServerSocketFactory().createServerSocket();
      SSLParameters params = tls.getSSLParameters();
      params.setApplicationProtocols(new String[] {"h2"});
      tls.setSSLParameters(params);
      server = tls;
    } else {
      server = new ServerSocket();
    }
    server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
    acceptor = new Thread(this::acceptLoop, "relay-accept");
    acceptor.setDaemon(true);
    acceptor.start();
  }

  int port() {
    return server.getLocalPort();
  }

  private void acceptLoop() {
    while (!server.isClosed()) {
      try {
        Socket client = server.accept();
        sockets.add(client);
        Socket upstream = connectUpstream();
        sockets.add(upstream);
        pipe(client.getInputStream(), upstream.getOutputStream());
        pipe(upstream.getInputStream(), client.getOutputStream());
      } catch (Exception e) {
        if (server.isClosed()) {
          return;
        }
      }
    }
  }

  private Socket connectUpstream() throws Exception {
    if (mode == Mode.PASS_THROUGH) {
      return new Socket(InetAddress.getLoopbackAddress(), upstreamPort);
    }
    SSLContext context = SSLContext.getInstance("TLS");
    context.init(null, new TrustManager[] {new AnyCertificate()}, new SecureRandom());
    SSLSocket socket = (SSLSocket) context.getSocketFactory().createSocket(InetAddress.getLoopbackAddress(), upstreamPort);
    SSLParameters params = socket.getSSLParameters();
    params.setApplicationProtocols(new String[] {"h2"});
    socket.setSSLParameters(params);
    socket.startHandshake();
    return socket;
  }

  private static void pipe(InputStream in, OutputStream out) {
    Thread t = new Thread(() -> {
      byte[] buffer = new byte[16 * 1024];
      try (in; out) {
        int n;
        while ((n = in.read(buffer)) >= 0) {
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

  private static javax.net.ssl.KeyManager[] keyManagers(TlsMaterial material) throws Exception {
    String pem = Files.readString(material.privateKey());
    String base64 = pem.replaceAll("-----[A-Z ]+-----", "").replaceAll("\\s", "");
    PrivateKey key = KeyFactory.getInstance("EC").generatePrivate(new PKCS8EncodedKeySpec(Base64.getDecoder().decode(base64)));
    X509Certificate cert;
    try (InputStream in = Files.newInputStream(material.certificate())) {
      cert = (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(in);
    }
    KeyStore store = KeyStore.getInstance("PKCS12");
    store.load(null, null);
    store.setKeyEntry("relay", key, new char[0], new Certificate[] {cert});
    KeyManagerFactory factory = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
    factory.init(store, new char[0]);
    return factory.getKeyManagers();
  }

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
    server.close();
    for (Socket s : sockets) {
      try {
        s.close();
      } catch (IOException e) {
        // closing anyway
      }
    }
  }
}
