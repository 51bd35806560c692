package dev.tether.manager.console;

import static org.assertj.core.api.Assertions.assertThat;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tether.common.testing.SecretScanExtension;
import dev.tether.manager.admin.AdminKey;
import dev.tether.manager.server.ManagerServer;
import dev.tether.manager.server.ManagerSettings;
import dev.tether.manager.store.Actor;
import dev.tether.manager.store.AdminRole;
import dev.tether.proto.admin.v1.AdminAccessGrpc;
import dev.tether.proto.admin.v1.WhoAmIRequest;
import io.grpc.Grpc;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.TlsChannelCredentials;
import io.grpc.stub.MetadataUtils;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Attacks on the web console over raw HTTPS against a real manager: requests a browser would not
 * send, or that Netty answers before the console's own code sees them.
 */
@ExtendWith(SecretScanExtension.class)
class ConsoleAttackTest {

  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir static Path dataDir;
  private static ManagerServer server;
  private static SSLContext ssl;
  private static int port;
  private static String ownerKey;

  @BeforeAll
  static void start() throws Exception {
    server = ManagerServer.start(new ManagerServer.Options(new InetSocketAddress("127.0.0.1", 0),
        new InetSocketAddress("127.0.0.1", 0), dataDir, null, null, null, false, null, null, List.of(),
        ManagerSettings.defaults(), null, new InetSocketAddress("127.0.0.1", 0)));
    port = server.consoleAddress().getPort();
    ownerKey = Files.readString(dataDir.resolve(AdminKey.FILE_NAME)).strip();
    KeyStore trust = KeyStore.getInstance(KeyStore.getDefaultType());
    trust.load(null, null);
    try (InputStream in = Files.newInputStream(dataDir.resolve("tls/manager.crt"))) {
      trust.setCertificateEntry("manager", CertificateFactory.getInstance("X.509").generateCertificate(in));
    }
    TrustManagerFactory factory = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    factory.init(trust);
    ssl = SSLContext.getInstance("TLS");
    ssl.init(null, factory.getTrustManagers(), null);
  }

  @AfterAll
  static void stop() {
    if (server != null) {
      server.close();
    }
  }

  /** One HTTP response as read off the wire. */
  record Raw(int status, String head, String body) {
    String header(String name) {
      for (String line : head.split("\r\n")) {
        int colon = line.indexOf(':');
        if (colon > 0 && line.substring(0, colon).equalsIgnoreCase(name)) {
          return line.substring(colon + 1).strip();
        }
      }
      return null;
    }
  }

  /** Writes {@code request} as is over TLS and reads the responses until the server closes. */
  private static String exchange(byte[] request) throws IOException {
    try (SSLSocket socket = (SSLSocket) ssl.getSocketFactory().createSocket("127.0.0.1", port)) {
      socket.setSoTimeout(30_000);
      OutputStream out = socket.getOutputStream();
      out.write(request);
      out.flush();
      ByteArrayOutputStream read = new ByteArrayOutputStream();
      InputStream in = socket.getInputStream();
      byte[] buffer = new byte[8192];
      try {
        for (int n; (n = in.read(buffer)) >= 0; ) {
          read.write(buffer, 0, n);
        }
      } catch (SocketException e) {
        // the server may reset after its answer; what was read is the answer
      }
      return read.toString(StandardCharsets.ISO_8859_1);
    }
  }

  private static Raw parse(String wire) {
    int end = wire.indexOf("\r\n\r\n");
    assertThat(end).as("a whole HTTP response in %s", wire).isPositive();
    String head = wire.substring(0, end);
    return new Raw(Integer.parseInt(head.split(" ")[1]), head, wire.substring(end + 4));
  }

  private static byte[] ascii(String text) {
    return text.getBytes(StandardCharsets.US_ASCII);
  }

  /** The responses on {@code wire}, one after the other, each read by its Content-Length. */
  private static List<Raw> responses(String wire) {
    List<Raw> all = new ArrayList<>();
    int at = 0;
    while (at < wire.length()) {
      int end = wire.indexOf("\r\n\r\n", at);
      assertThat(end).as("a whole HTTP response in %s", wire.substring(at)).isPositive();
      String head = wire.substring(at, end);
      Raw headOnly = new Raw(Integer.parseInt(head.split(" ")[1]), head, "");
      int length = Integer.parseInt(headOnly.header("Content-Length"));
      all.add(new Raw(headOnly.status(), head, wire.substring(end + 4, end + 4 + length)));
      at = end + 4 + length;
    }
    return all;
  }

  private static void assertSecurityHeaders(Raw response) {
    assertThat(response.header("Content-Security-Policy")).as(response.head())
        .isEqualTo("default-src 'self'; frame-ancestors 'none'");
    assertThat(response.header("X-Content-Type-Options")).as(response.head()).isEqualTo("nosniff");
    assertThat(response.header("X-Frame-Options")).as(response.head()).isEqualTo("DENY");
    assertThat(response.header("Cache-Control")).as(response.head()).isEqualTo("no-store");
  }

  /** Signs in with {@code credential}: the cookie ("name=value") and the CSRF token. */
  private static String[] signIn(String credential) throws Exception {
    String login = "{\"credential\":\"" + credential + "\"}";
    Raw signedIn = parse(exchange(ascii("POST /api/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        + "Content-Length: " + login.length() + "\r\nConnection: close\r\n\r\n" + login)));
    assertThat(signedIn.status()).isEqualTo(200);
    return new String[] {signedIn.header("Set-Cookie").split(";")[0], JSON.readTree(signedIn.body()).get("csrf").asText()};
  }

  private static Raw get(String path, String cookie) throws IOException {
    return parse(exchange(ascii("GET " + path + " HTTP/1.1\r\nHost: x\r\nCookie: " + cookie
        + "\r\nConnection: close\r\n\r\n")));
  }

  @Test
  void anAdminRevokedStraightInTheStore_asAnotherReplicaWouldDoIt_canDoNothingMoreWithItsSession() throws Exception {
    String key = server.manager().admins().create("replica-revoked", AdminRole.OPERATOR, Actor.named("test"))
        .secret().reveal();
    String[] browser = signIn(key);
    assertThat(get("/api/accounts", browser[0]).status()).isEqualTo(200);
    // no local revocation, no feed event: only the row changes, as when another replica revokes it
    server.manager().store().revokeAdmin("replica-revoked", Instant.now(), Actor.named("other-replica"));
    for (String path : List.of("/api/session", "/api/accounts", "/api/audit")) {
      assertThat(get(path, browser[0]).status()).as(path).isEqualTo(401);
    }
    String body = "{\"name\":\"after-revocation\"}";
    Raw create = parse(exchange(ascii("POST /api/accounts HTTP/1.1\r\nHost: x\r\nCookie: " + browser[0] + "\r\n"
        + "X-CSRF-Token: " + browser[1] + "\r\nContent-Type: application/json\r\nContent-Length: " + body.length()
        + "\r\nConnection: close\r\n\r\n" + body)));
    assertThat(create.status()).isEqualTo(401);
  }

  @Test
  void theInProcessSessionHeader_isWorthNothingOnTheAdminPort() throws Exception {
    String[] browser = signIn(ownerKey);
    ConsoleSessions.Session session = server.manager().consoleSessions()
        .find(browser[0].substring(browser[0].indexOf('=') + 1), false).orElseThrow();
    Metadata headers = new Metadata();
    headers.put(ConsoleApi.SESSION, session.key());
    headers.put(ConsoleApi.REMOTE, "203.0.113.9:1");
    ManagedChannel channel = Grpc.newChannelBuilderForAddress("127.0.0.1", server.adminAddress().getPort(),
        TlsChannelCredentials.newBuilder().trustManager(dataDir.resolve("tls/manager.crt").toFile()).build()).build();
    try {
      assertThatThrownBy(() -> AdminAccessGrpc.newBlockingStub(channel)
          .withInterceptors(MetadataUtils.newAttachHeadersInterceptor(headers))
          .withDeadlineAfter(30, TimeUnit.SECONDS).whoAmI(WhoAmIRequest.getDefaultInstance()))
          .isInstanceOfSatisfying(StatusRuntimeException.class,
              e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAUTHENTICATED));
    } finally {
      channel.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
    }
    // and a browser's own copy of those headers is not passed on: the console still answers as the owner
    Raw who = parse(exchange(ascii("GET /api/session HTTP/1.1\r\nHost: x\r\nCookie: " + browser[0]
        + "\r\ntether-console-session: forged\r\ntether-console-remote: 203.0.113.9:1\r\nConnection: close\r\n\r\n")));
    assertThat(who.status()).isEqualTo(200);
    assertThat(JSON.readTree(who.body()).at("/admin/name").asText()).isEqualTo("bootstrap");
  }

  @Test
  void signOutClearsTheCookieWithTheSameAttributes_andTheOldCookieIsDead() throws Exception {
    String[] browser = signIn(ownerKey);
    Raw out = parse(exchange(ascii("POST /api/logout HTTP/1.1\r\nHost: x\r\nCookie: " + browser[0] + "\r\n"
        + "X-CSRF-Token: " + browser[1] + "\r\nContent-Type: application/json\r\nContent-Length: 2\r\n"
        + "Connection: close\r\n\r\n{}")));
    assertThat(out.status()).isEqualTo(200);
    assertThat(out.header("Set-Cookie")).startsWith("tether_console=;").contains("Max-Age=0").contains("HTTPOnly")
        .contains("Secure").contains("SameSite=Strict").contains("Path=/");
    assertThat(get("/api/session", browser[0]).status()).isEqualTo(401);
  }

  @Test
  void theAnswersNettyGivesItself_tooLargeAndBadExpect_carryTheSecurityHeadersToo() throws Exception {
    Raw tooLarge = parse(exchange(ascii("POST /api/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        + "Content-Length: " + (ConsoleServer.MAX_BODY + 1) + "\r\nConnection: close\r\n\r\n"
        + "a".repeat(ConsoleServer.MAX_BODY + 1))));
    assertThat(tooLarge.status()).isEqualTo(413);
    assertSecurityHeaders(tooLarge);
    Raw tooLargeExpected = parse(exchange(ascii("POST /api/login HTTP/1.1\r\nHost: x\r\n"
        + "Content-Type: application/json\r\nContent-Length: " + (ConsoleServer.MAX_BODY + 1) + "\r\n"
        + "Expect: 100-continue\r\nConnection: close\r\n\r\n")));
    assertThat(tooLargeExpected.status()).isEqualTo(413);
    assertSecurityHeaders(tooLargeExpected);
    Raw badExpect = parse(exchange(ascii("POST /api/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        + "Content-Length: 2\r\nExpect: 200-ok\r\nConnection: close\r\n\r\n")));
    assertThat(badExpect.status()).isEqualTo(417);
    assertSecurityHeaders(badExpect);
    Raw malformed = parse(exchange(ascii("GET / HTTP/1.1 junk\r\n\r\n")));
    assertThat(malformed.status()).isEqualTo(400);
    assertSecurityHeaders(malformed);
    Raw longHeader = parse(exchange(ascii("GET / HTTP/1.1\r\nHost: x\r\nX-A: " + "a".repeat(20_000)
        + "\r\nConnection: close\r\n\r\n")));
    assertThat(longHeader.status()).isEqualTo(400);
    assertSecurityHeaders(longHeader);
  }

  @Test
  void aBodyThatIsNotJson_isRefusedWithoutQuotingWhatItHeld() throws Exception {
    // a credential pasted without its quotes: the parser's own message would quote it back
    String body = "{\"credential\": " + ownerKey + "}";
    Raw refused = parse(exchange(ascii("POST /api/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        + "Content-Length: " + body.length() + "\r\nConnection: close\r\n\r\n" + body)));
    assertThat(refused.status()).isEqualTo(400);
    assertThat(JSON.readTree(refused.body()).get("error").asText()).contains("not JSON").contains("line 1, column")
        .doesNotContain(ownerKey).doesNotContain(ownerKey.substring(4, 20));
  }

  @Test
  void pipelinedRequests_areAnsweredEachOnceInTheOrderTheyCame() throws Exception {
    // a slow request (a sign-in: the store and the refusal reporter) before a fast one (a static file), many times
    StringBuilder pipelined = new StringBuilder();
    List<Integer> expected = new ArrayList<>();
    String login = "{\"credential\":\"tak_\"}";
    for (int i = 0; i < 20; i++) {
      pipelined.append("POST /api/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ")
          .append(login.length()).append("\r\n\r\n").append(login);
      expected.add(401);
      pipelined.append("GET /favicon.svg HTTP/1.1\r\nHost: x\r\n\r\n");
      expected.add(200);
    }
    pipelined.append("GET /no-such-page HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    expected.add(404);
    List<Raw> answers = responses(exchange(ascii(pipelined.toString())));
    assertThat(answers).extracting(Raw::status).containsExactlyElementsOf(expected);
    assertThat(answers).allSatisfy(ConsoleAttackTest::assertSecurityHeaders);
  }

  @Test
  void plainHttpOnTheTlsPort_getsNoHttpAnswer() throws Exception {
    try (Socket plain = new Socket("127.0.0.1", port)) {
      plain.setSoTimeout(30_000);
      plain.getOutputStream().write(ascii("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
      byte[] answer;
      try {
        answer = plain.getInputStream().readAllBytes();
      } catch (SocketException e) {
        answer = new byte[0];
      }
      assertThat(new String(answer, StandardCharsets.ISO_8859_1)).doesNotContain("HTTP/").doesNotContain("<html");
    }
  }

  @Test
  void noPathReachesAFileBeyondThePage() throws Exception {
    for (String path : List.of("/../pom.xml", "/%2e%2e/%2e%2e/pom.xml", "//console.js", "/console.js%00",
        "/console.js/", "/console/console.js", "/index.html/..", "/..%2fconsole%2fconsole.js",
        "/dev/tether/manager/console/ConsoleApi.class", "*")) {
      Raw answer = parse(exchange(ascii("GET " + path + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")));
      assertThat(answer.status()).as(path).isEqualTo(404);
      assertThat(answer.header("Content-Type")).as(path).startsWith("application/json");
      assertSecurityHeaders(answer);
    }
  }

  @Test
  void forgedStateChangingRequests_areRefused_whateverTheirShape() throws Exception {
    String[] browser = signIn(ownerKey);
    String cookie = browser[0];
    String csrf = browser[1];
    String body = "{\"name\":\"forged-account\"}";
    record Forgery(String what, String headers, int status) {}
    for (Forgery forgery : List.of(
        new Forgery("no CSRF header", "Content-Type: application/json\r\n", 403),
        new Forgery("empty CSRF header", "Content-Type: application/json\r\nX-CSRF-Token: \r\n", 403),
        new Forgery("Origin null", "Content-Type: application/json\r\nX-CSRF-Token: " + csrf + "\r\nOrigin: null\r\n",
            403),
        new Forgery("another origin", "Content-Type: application/json\r\nX-CSRF-Token: " + csrf
            + "\r\nOrigin: https://x.evil\r\n", 403),
        new Forgery("text/plain with JSON", "Content-Type: text/plain\r\nX-CSRF-Token: " + csrf + "\r\n", 415),
        new Forgery("text/plain naming JSON", "Content-Type: text/plain; a=application/json\r\nX-CSRF-Token: " + csrf
            + "\r\n", 415),
        new Forgery("no content type", "X-CSRF-Token: " + csrf + "\r\n", 415),
        new Forgery("JSON without CSRF, method overridden", "Content-Type: application/json\r\n"
            + "X-HTTP-Method-Override: GET\r\n", 403))) {
      Raw answer = parse(exchange(ascii("POST /api/accounts HTTP/1.1\r\nHost: x\r\nCookie: " + cookie + "\r\n"
          + forgery.headers() + "Content-Length: " + body.length() + "\r\nConnection: close\r\n\r\n" + body)));
      assertThat(answer.status()).as(forgery.what()).isEqualTo(forgery.status());
    }
    assertThat(server.manager().store().listAccounts()).noneSatisfy(a -> assertThat(a.name()).isEqualTo("forged-account"));
  }
}
