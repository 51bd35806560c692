package dev.tether.delegate.connect;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tether.delegate.config.ManagerEndpoint;
import io.grpc.ManagedChannel;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLServerSocket;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A server the delegate refuses, for its certificate's names or for not agreeing to HTTP/2, must
 * see the connection end. gRPC's OkHttp transport checks both only after the TLS handshake and
 * never closes a connection that fails them: the delegate kept one open socket per attempt (29 in
 * its first 70 s against a manager dialled at an address its certificate does not hold). Each case
 * is a TLS server on a loopback port that accepts one connection, completes its side of the
 * handshake and then waits, up to 20 s, for the delegate's next move.
 */
class RefusedTlsLeavesNoSocketTest {

  @TempDir Path keys;

  @Test
  void aCertificateWithoutTheDialledAddress_withACaFile_endsTheConnectionInTheHandshake() throws Exception {
    Path store = keyPair("named", "SAN=dns:manager.example");
    assertThat(firstConnection(serverContext(store), true, caFile(store)))
        .isEqualTo("the delegate refused the handshake");
  }

  @Test
  void aServerThatDoesNotAgreeToHttp2_endsTheConnectionInTheHandshake() throws Exception {
    Path store = keyPair("web", "SAN=ip:127.0.0.1");
    assertThat(firstConnection(serverContext(store), false, null)).isEqualTo("the delegate refused the handshake");
  }

  @Test
  void control_theRightAddressAndHttp2_areAccepted_andTheDelegateSpeaksHttp2() throws Exception {
    Path store = keyPair("manager", "SAN=ip:127.0.0.1");
    assertThat(firstConnection(serverContext(store), true, caFile(store)))
        .isEqualTo("the delegate sent data after the handshake");
    // and without a CA file, where the token handshake proves the manager
    assertThat(firstConnection(serverContext(store), true, null))
        .isEqualTo("the delegate sent data after the handshake");
  }

  /** Starts a delegate channel to a server with {@code tls} and says how the server's one connection went. */
  private static String firstConnection(SSLContext tls, boolean http2, Path caFile) throws Exception {
    try (SSLServerSocket server = (SSLServerSocket) tls.getServerSocketFactory()
        .createServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      if (http2) {
        SSLParameters parameters = server.getSSLParameters();
        parameters.setApplicationProtocols(new String[] {"h2"});
        server.setSSLParameters(parameters);
      }
      CompletableFuture<String> outcome = CompletableFuture.supplyAsync(() -> serveOne(server));
      ManagedChannel channel = Channels.open(new ManagerEndpoint("127.0.0.1", server.getLocalPort(), true), caFile);
      try {
        channel.getState(true);
        return outcome.get(60, TimeUnit.SECONDS);
      } finally {
        channel.shutdownNow().awaitTermination(30, TimeUnit.SECONDS);
      }
    }
  }

  private static String serveOne(SSLServerSocket server) {
    try (SSLSocket socket = (SSLSocket) server.accept()) {
      socket.setSoTimeout(20_000);
      try {
        socket.startHandshake();
      } catch (SocketTimeoutException stillOpen) {
        return "the delegate left the connection open in the handshake";
      } catch (IOException refused) {
        // its alert, or (when it closed before this side had written its flight) a broken pipe
        return "the delegate refused the handshake";
      }
      try {
        return socket.getInputStream().read() < 0 ? "the delegate closed the connection after the handshake"
            : "the delegate sent data after the handshake";
      } catch (SocketTimeoutException stillOpen) {
        return "the delegate left the connection open";
      }
    } catch (IOException e) {
      return "the connection failed: " + e;
    }
  }

  /** A key pair and self-signed certificate with {@code san}, made by the JDK's keytool. */
  private Path keyPair(String alias, String san) throws Exception {
    Path store = keys.resolve(alias + ".p12");
    keytool("-genkeypair", "-alias", alias, "-keyalg", "EC", "-groupname", "secp256r1", "-dname", "CN=" + alias,
        "-ext", san, "-validity", "2", "-keystore", store.toString(), "-storetype", "PKCS12",
        "-storepass", "changeit", "-keypass", "changeit");
    return store;
  }

  private Path caFile(Path store) throws Exception {
    Path pem = keys.resolve(store.getFileName() + ".pem");
    keytool("-exportcert", "-rfc", "-alias", store.getFileName().toString().replace(".p12", ""),
        "-keystore", store.toString(), "-storetype", "PKCS12", "-storepass", "changeit", "-file", pem.toString());
    return pem;
  }

  private static void keytool(String... args) throws Exception {
    List<String> command = new java.util.ArrayList<>(List.of(
        Path.of(System.getProperty("java.home"), "bin", "keytool").toString()));
    command.addAll(List.of(args));
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as(out).isZero();
  }

  private static SSLContext serverContext(Path store) throws Exception {
    KeyStore keyStore = KeyStore.getInstance("PKCS12");
    try (InputStream in = Files.newInputStream(store)) {
      keyStore.load(in, "changeit".toCharArray());
    }
    KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
    kmf.init(keyStore, "changeit".toCharArray());
    SSLContext context = SSLContext.getInstance("TLS");
    context.init(kmf.getKeyManagers(), null, null);
    return context;
  }
}
