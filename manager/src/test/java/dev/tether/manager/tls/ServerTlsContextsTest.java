package dev.tether.manager.tls;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tether.manager.server.ManagerServer;
import dev.tether.manager.server.ManagerSettings;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.Principal;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509ExtendedKeyManager;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The listeners' TLS as a client meets it, with the contexts built once per start: each listener
 * presents the manager's certificate, speaks the protocol it serves (h2 for gRPC, http/1.1 for the
 * console), and none asks the client for a certificate, which is why the contexts trust none.
 */
class ServerTlsContextsTest {

  @TempDir Path dataDir;

  @Test
  void everyListener_presentsTheManagersCertificate_itsProtocol_andAsksForNoClientCertificate() throws Exception {
    try (ManagerServer server = ManagerServer.start(new ManagerServer.Options(new InetSocketAddress("127.0.0.1", 0),
        new InetSocketAddress("127.0.0.1", 0), dataDir, null, null, null, false, null, null, List.of(),
        ManagerSettings.defaults(), null, new InetSocketAddress("127.0.0.1", 0)))) {
      Certificate manager;
      try (InputStream in = Files.newInputStream(dataDir.resolve("tls/manager.crt"))) {
        manager = CertificateFactory.getInstance("X.509").generateCertificate(in);
      }
      assertThat(handshake(server.listenAddress(), manager)).isEqualTo("h2");
      assertThat(handshake(server.adminAddress(), manager)).isEqualTo("h2");
      assertThat(handshake(server.consoleAddress(), manager)).isEqualTo("http/1.1");
    }
  }

  /** A TLS handshake with {@code address} offering h2 and http/1.1; returns the protocol chosen. */
  private static String handshake(InetSocketAddress address, Certificate manager) throws Exception {
    KeyStore trusted = KeyStore.getInstance(KeyStore.getDefaultType());
    trusted.load(null, null);
    trusted.setCertificateEntry("manager", manager);
    TrustManagerFactory trust = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    trust.init(trusted);
    AsksForClientCertificate asked = new AsksForClientCertificate();
    SSLContext context = SSLContext.getInstance("TLS");
    context.init(new X509ExtendedKeyManager[] {asked}, trust.getTrustManagers(), null);
    try (Socket plain = new Socket(address.getAddress(), address.getPort());
        SSLSocket socket = (SSLSocket) context.getSocketFactory().createSocket(plain, "localhost", address.getPort(),
            true)) {
      SSLParameters parameters = socket.getSSLParameters();
      parameters.setApplicationProtocols(new String[] {"h2", "http/1.1"});
      socket.setSSLParameters(parameters);
      socket.startHandshake();
      assertThat(socket.getSession().getPeerCertificates()[0]).as(address.toString()).isEqualTo(manager);
      assertThat(asked.times).as("requests for a client certificate from " + address).hasValue(0);
      return socket.getApplicationProtocol();
    }
  }

  /** A client key manager with no key, counting the times a server asked for a client certificate. */
  private static final class AsksForClientCertificate extends X509ExtendedKeyManager {
    final AtomicInteger times = new AtomicInteger();

    @Override
    public String chooseClientAlias(String[] keyType, Principal[] issuers, Socket socket) {
      times.incrementAndGet();
      return null;
    }

    @Override
    public String chooseEngineClientAlias(String[] keyType, Principal[] issuers, SSLEngine engine) {
      times.incrementAndGet();
      return null;
    }

    @Override
    public String[] getClientAliases(String keyType, Principal[] issuers) {
      times.incrementAndGet();
      return null;
    }

    @Override
    public String[] getServerAliases(String keyType, Principal[] issuers) {
      return null;
    }

    @Override
    public String chooseServerAlias(String keyType, Principal[] issuers, Socket socket) {
      return null;
    }

    @Override
    public X509Certificate[] getCertificateChain(String alias) {
      return null;
    }

    @Override
    public PrivateKey getPrivateKey(String alias) {
      return null;
    }
  }
}
