package dev.tether.manager.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.tether.common.testing.TokenLedger;
import dev.tether.common.token.DelegateToken;
import dev.tether.delegate.agent.DelegateAgent;
import dev.tether.delegate.agent.Outcome;
import dev.tether.delegate.config.DelegateConfig;
import dev.tether.delegate.config.ManagerEndpoint;
import dev.tether.delegate.config.TokenSource;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import dev.tether.common.ops.OpsMetrics;
import dev.tether.common.ops.OpsServer;
import dev.tether.manager.testing.LogCapture;

import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Tether issue 13: a delegate given http:// for a TLS manager, or https:// for a plaintext one, said
 * "Network closed for unknown reason" or dumped a Netty pipeline. Against the production server on
 * a loopback port, with and without --plaintext, it now says which side speaks TLS and what to use;
 * against an HTTPS web server, which speaks TLS but not HTTP/2, it says so.
 */
class DelegateTransportMismatchTest {

  @TempDir Path dataDir;
  @TempDir Path otherDataDir;
  @TempDir Path keyDir;

  private ManagerServer start(boolean plaintext) throws Exception {
    return start(dataDir, plaintext);
  }

  private static ManagerServer start(Path dir, boolean plaintext) throws Exception {
    return ManagerServer.start(new ManagerServer.Options(new InetSocketAddress("127.0.0.1", 0),
        new InetSocketAddress("127.0.0.1", 0), dir,
        null, null, null, plaintext, null, null, List.of(), ManagerSettings.defaults()));
  }

  /** The first warning of a delegate that tries {@code endpoint}, which it logs after its first failed attempt. */
  private static String firstWarning(ManagerEndpoint endpoint) throws Exception {
    return firstWarning(endpoint, null);
  }

  static String firstWarning(ManagerEndpoint endpoint, Path caFile) throws Exception {
    DelegateConfig config = new DelegateConfig("abcdefghijklmnop",
        new TokenSource.Fixed("DELEGATE_TOKEN", TokenLedger.record(DelegateToken.generate())), List.of(endpoint),
        "builder-1", "SHELL_SCRIPT", List.of(), caFile, null, List.of());
    DelegateAgent agent = new DelegateAgent(config, "test");
    try (LogCapture log = new LogCapture(DelegateAgent.class)) {
      CompletableFuture<Outcome> outcome = CompletableFuture.supplyAsync(agent::run);
      await().atMost(Duration.ofSeconds(60)).until(() -> !log.warnings().isEmpty());
      agent.stop();
      assertThat(outcome.get(30, TimeUnit.SECONDS).exitCode()).isEqualTo(Outcome.STOPPED);
      return log.warnings().get(0);
    }
  }

  @Test
  void httpAgainstATlsManager_saysTheManagerSpeaksTlsAndToUseHttps() throws Exception {
    try (ManagerServer manager = start(false)) {
      int port = manager.listenAddress().getPort();

      String warning = firstWarning(new ManagerEndpoint("127.0.0.1", port, false));

      assertThat(warning).startsWith("the manager at 127.0.0.1:" + port + " speaks TLS: use https://127.0.0.1:" + port
          + " in MANAGER_HOST_AND_PORT (http:// is only for a manager run with --plaintext); retrying in ");
    }
  }

  @Test
  void httpsAgainstAPlaintextManager_saysTheManagerSpeaksPlaintextAndToUseHttp() throws Exception {
    try (ManagerServer manager = start(true)) {
      int port = manager.listenAddress().getPort();

      String warning = firstWarning(new ManagerEndpoint("127.0.0.1", port, true));

      assertThat(warning).startsWith("the manager at 127.0.0.1:" + port + " speaks plaintext, not TLS (it runs with"
          + " --plaintext): use http://127.0.0.1:" + port + " in MANAGER_HOST_AND_PORT, or run the manager without"
          + " --plaintext; retrying in ");
    }
  }

  @Test
  void caFileOfAnotherManager_saysTheCertificateDidNotVerifyAndWhichCertificateToGive() throws Exception {
    try (ManagerServer manager = start(false); ManagerServer other = start(otherDataDir, false)) {
      int port = manager.listenAddress().getPort();
      Path otherCertificate = otherDataDir.resolve("tls").resolve("manager.crt");

      String warning = firstWarning(new ManagerEndpoint("127.0.0.1", port, true), otherCertificate);

      assertThat(warning).startsWith("the manager's TLS certificate at 127.0.0.1:" + port + " did not verify with"
          + " MANAGER_CA_FILE (").contains("): give the CA that signed the manager's certificate, or the manager's"
          + " own certificate (tls/manager.crt in its data directory); retrying in ");
    }
  }

  @Test
  void theAdminListenersPort_saysItHasNoDelegateHandshakeAndWhichListenerToName() throws Exception {
    try (ManagerServer manager = start(false)) {
      int adminPort = manager.adminAddress().getPort();

      String warning = firstWarning(new ManagerEndpoint("127.0.0.1", adminPort, true));

      assertThat(warning).contains("the server there has no delegate handshake (UNIMPLEMENTED")
          .contains("MANAGER_HOST_AND_PORT must name the manager's delegate listener (serve --listen, port 7443 by"
              + " default), not its admin listener (--admin-listen, port 7444 by default) or another gRPC server")
          .contains("retrying in ");
    }
  }

  @Test
  void aTlsServerThatDoesNotAgreeToHttp2_saysSoAndWhichListenerToName() throws Exception {
    // a web server that ignores the delegate's ALPN offer: TLS succeeds, HTTP/2 is never agreed, and the
    // transport fails with no SSLException
    HttpsServer web = httpsServer();
    try {
      int port = web.getAddress().getPort();

      String warning = firstWarning(new ManagerEndpoint("127.0.0.1", port, true));

      assertThat(warning).startsWith("the server at 127.0.0.1:" + port + " speaks TLS but not HTTP/2 (it did not"
          + " agree to ALPN protocol h2), so it is no Tether manager: MANAGER_HOST_AND_PORT must name the manager's"
          + " delegate listener (serve --listen, port 7443 by default), not a web server, or a proxy or load"
          + " balancer that does not pass HTTP/2 on; retrying in ");
    } finally {
      web.stop(0);
    }
  }

  /**
   * Found by trying it as an operator: a delegate pointed at the manager's metrics and health port
   * said "the manager ended the handshake before proving that it knows the token (INTERNAL: error
   * in frame handler)" with http://, and "Remote host terminated the handshake" with https://.
   * Against the real ops listener (plaintext HTTP/1.1) it now says what the port is.
   */
  @Test
  void theOpsListenersPort_withHttpOrHttps_saysItSpeaksHttp1AndWhichListenerToName() throws Exception {
    try (OpsServer ops = OpsServer.start(new InetSocketAddress("127.0.0.1", 0),
        OpsMetrics.registry(), java.util.Optional::empty, "--ops-listen")) {
      int port = ops.address().getPort();
      String rest = " speaks plaintext HTTP/1, not HTTP/2, so it is no Tether manager (is it the manager's metrics"
          + " and health port, --ops-listen, 9464 by default?): MANAGER_HOST_AND_PORT must name the manager's"
          + " delegate listener (serve --listen, port 7443 by default); retrying in ";

      assertThat(firstWarning(new ManagerEndpoint("127.0.0.1", port, false)))
          .startsWith("the server at 127.0.0.1:" + port + rest);
      assertThat(firstWarning(new ManagerEndpoint("127.0.0.1", port, true)))
          .startsWith("the server at 127.0.0.1:" + port + rest);
    }
  }

  /** An HTTPS server (HTTP/1.1, no ALPN) on a loopback port, with a self-signed certificate made by keytool. */
  private HttpsServer httpsServer() throws Exception {
    Path store = keyDir.resolve("web.p12");
    Path keytool = Path.of(System.getProperty("java.home"), "bin", "keytool");
    Process p = new ProcessBuilder(keytool.toString(), "-genkeypair", "-alias", "web", "-keyalg", "EC",
        "-groupname", "secp256r1", "-dname", "CN=web", "-ext", "SAN=ip:127.0.0.1", "-validity", "2",
        "-keystore", store.toString(), "-storetype", "PKCS12", "-storepass", "changeit", "-keypass", "changeit")
        .redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as(out).isZero();
    KeyStore keys = KeyStore.getInstance("PKCS12");
    try (InputStream in = Files.newInputStream(store)) {
      keys.load(in, "changeit".toCharArray());
    }
    KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
    kmf.init(keys, "changeit".toCharArray());
    SSLContext tls = SSLContext.getInstance("TLS");
    tls.init(kmf.getKeyManagers(), null, null);
    HttpsServer server = HttpsServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    server.setHttpsConfigurator(new HttpsConfigurator(tls));
    server.createContext("/", exchange -> {
      exchange.sendResponseHeaders(404, -1);
      exchange.close();
    });
    server.start();
    return server;
  }
}
