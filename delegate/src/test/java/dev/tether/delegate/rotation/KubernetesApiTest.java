package dev.tether.delegate.rotation;

import static java.nio.charset.StandardCharsets.US_ASCII;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import dev.tether.common.testing.TokenLedger;
import dev.tether.common.token.DelegateToken;
import java.io.FileInputStream;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Secret keeper as a pod runs it: the API server found from the environment, over TLS with a
 * certificate of its own, trusted only through the service account's {@code ca.crt}, and the
 * service account's token as the bearer token. The API server is the JDK's HTTPS server with a
 * certificate made by {@code keytool}.
 */
class KubernetesApiTest {

  private static final DelegateToken OLD = TokenLedger.record(DelegateToken.generate());
  private static final DelegateToken NEW = TokenLedger.record(DelegateToken.generate());
  private static final String PASSWORD = "changeit";
  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir Path dir;
  private HttpsServer server;
  private final List<String> requests = new CopyOnWriteArrayList<>();
  private volatile JsonNode written;

  /** A key pair and self-signed certificate for 127.0.0.1 in a PKCS#12 store, its certificate as PEM beside it. */
  private Path keytool(String name) throws Exception {
    Path keytool = Path.of(ProcessHandle.current().info().command().orElseThrow()).resolveSibling("keytool");
    Path store = dir.resolve(name + ".p12");
    run(keytool.toString(), "-genkeypair", "-alias", name, "-keyalg", "EC", "-groupname", "secp256r1",
        "-dname", "CN=" + name, "-ext", "SAN=ip:127.0.0.1", "-validity", "2", "-keystore", store.toString(),
        "-storetype", "PKCS12", "-storepass", PASSWORD, "-keypass", PASSWORD);
    run(keytool.toString(), "-exportcert", "-rfc", "-alias", name, "-keystore", store.toString(),
        "-storepass", PASSWORD, "-file", dir.resolve(name + ".pem").toString());
    return store;
  }

  private static void run(String... command) throws Exception {
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), UTF_8);
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as(out).isZero();
  }

  @BeforeEach
  void startApiServer() throws Exception {
    Path store = keytool("kube-apiserver");
    KeyStore keys = KeyStore.getInstance("PKCS12");
    try (InputStream in = new FileInputStream(store.toFile())) {
      keys.load(in, PASSWORD.toCharArray());
    }
    KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
    kmf.init(keys, PASSWORD.toCharArray());
    SSLContext tls = SSLContext.getInstance("TLS");
    tls.init(kmf.getKeyManagers(), null, null);
    server = HttpsServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    server.setHttpsConfigurator(new HttpsConfigurator(tls));
    String secret = "{\"kind\":\"Secret\",\"apiVersion\":\"v1\",\"metadata\":{\"name\":\"tether-token\","
        + "\"namespace\":\"builds\",\"resourceVersion\":\"7\"},\"data\":{\"DELEGATE_TOKEN\":\"" + base64(OLD) + "\"},"
        + "\"type\":\"Opaque\"}";
    server.createContext("/api/v1/namespaces/builds/secrets/tether-token", exchange -> {
      requests.add(exchange.getRequestMethod() + " " + exchange.getRequestHeaders().getFirst("Authorization"));
      byte[] body = exchange.getRequestMethod().equals("PUT") ? exchange.getRequestBody().readAllBytes()
          : secret.getBytes(UTF_8);
      if (exchange.getRequestMethod().equals("PUT")) {
        written = JSON.readTree(body);
      }
      exchange.getResponseHeaders().add("Content-Type", "application/json");
      exchange.sendResponseHeaders(200, body.length);
      exchange.getResponseBody().write(body);
      exchange.close();
    });
    server.start();
    Files.writeString(dir.resolve("token"), "service-account-token\n");
    Files.writeString(dir.resolve("namespace"), "builds");
  }

  @AfterEach
  void stop() {
    server.stop(0);
  }

  private static String base64(DelegateToken token) {
    return Base64.getEncoder().encodeToString(token.reveal().getBytes(US_ASCII));
  }

  private SecretTokenKeeper keeper() {
    Map<String, String> env = Map.of("KUBERNETES_SERVICE_HOST", "127.0.0.1",
        "KUBERNETES_SERVICE_PORT", Integer.toString(server.getAddress().getPort()));
    return new SecretTokenKeeper("tether-token", null, dir.resolve("namespace"), () -> KubernetesApi.inCluster(env, dir));
  }

  @Test
  void inAPod_theKeeperTrustsTheClustersCa_andSendsTheServiceAccountToken() throws Exception {
    Files.copy(dir.resolve("kube-apiserver.pem"), dir.resolve("ca.crt"));

    keeper().keep(NEW);

    assertThat(requests).containsExactly("GET Bearer service-account-token", "PUT Bearer service-account-token");
    assertThat(written.path("data").path("DELEGATE_TOKEN").asText().equals(base64(NEW))).isTrue();
    assertThat(written.path("metadata").path("resourceVersion").asText()).isEqualTo("7");
    assertThat(written.path("type").asText()).isEqualTo("Opaque");
  }

  @Test
  void anApiServerTheClustersCaDoesNotVouchFor_getsNothing() throws Exception {
    keytool("impostor-ca");
    Files.copy(dir.resolve("impostor-ca.pem"), dir.resolve("ca.crt"));

    assertThatThrownBy(() -> keeper().keep(NEW)).isInstanceOf(CannotKeepException.class)
        .hasMessageStartingWith("the Kubernetes API at https://127.0.0.1:" + server.getAddress().getPort() + "/ did"
            + " not prove itself with a certificate the delegate trusts (the cluster's CA from the pod's service"
            + " account) to update Secret builds/tether-token (SSLHandshakeException")
        .satisfies(e -> assertThat(TokenLedger.leaksIn(e.toString())).isEmpty());
    assertThat(requests).isEmpty();
  }

  @Test
  void anIpv6ApiServer_isAddressedInBrackets() throws Exception {
    Files.copy(dir.resolve("kube-apiserver.pem"), dir.resolve("ca.crt"));

    assertThat(KubernetesApi.inCluster(Map.of("KUBERNETES_SERVICE_HOST", "fd00::1", "KUBERNETES_SERVICE_PORT", "6443"),
        dir)).hasToString("KubernetesApi[https://[fd00::1]:6443/]");
  }
}
