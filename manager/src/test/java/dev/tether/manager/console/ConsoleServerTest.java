package dev.tether.manager.console;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tether.common.testing.SecretScanExtension;
import dev.tether.common.testing.TokenLedger;
import dev.tether.common.token.DelegateToken;
import dev.tether.manager.admin.AdminKey;
import dev.tether.manager.server.ManagerServer;
import dev.tether.manager.server.ManagerSettings;
import dev.tether.manager.store.Actor;
import dev.tether.manager.store.AdminRole;
import dev.tether.manager.store.AuditEvent;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.apache.commons.compress.archivers.zip.ZipArchiveEntry;
import org.apache.commons.compress.archivers.zip.ZipFile;
import org.apache.commons.compress.utils.SeekableInMemoryByteChannel;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * The web console's HTTPS API against a real manager (TLS with its generated certificate, H2 in a
 * file): sign-in, the security headers, CSRF and origin checks, roles, the one-time link, the end
 * of a revoked admin's sessions, the install archive, and that a token value is in no response but
 * the one that created it. The page itself is driven by a real browser in the e2e module.
 */
@ExtendWith(SecretScanExtension.class)
class ConsoleServerTest {

  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir static Path dataDir;
  private static ManagerServer server;
  private static HttpClient http;
  private static String base;
  private static String ownerKey;
  /** Every response body read by these tests, with the request that got it. */
  private static final List<String[]> BODIES = new ArrayList<>();

  @BeforeAll
  static void start() throws Exception {
    server = ManagerServer.start(new ManagerServer.Options(new InetSocketAddress("127.0.0.1", 0),
        new InetSocketAddress("127.0.0.1", 0), dataDir, null, null, null, false, null, null, List.of(),
        ManagerSettings.defaults(), null, new InetSocketAddress("127.0.0.1", 0)));
    base = "https://127.0.0.1:" + server.consoleAddress().getPort();
    ownerKey = Files.readString(dataDir.resolve(AdminKey.FILE_NAME)).strip();
    KeyStore trust = KeyStore.getInstance(KeyStore.getDefaultType());
    trust.load(null, null);
    try (InputStream in = Files.newInputStream(dataDir.resolve("tls/manager.crt"))) {
      trust.setCertificateEntry("manager", CertificateFactory.getInstance("X.509").generateCertificate(in));
    }
    TrustManagerFactory factory = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    factory.init(trust);
    SSLContext ssl = SSLContext.getInstance("TLS");
    ssl.init(null, factory.getTrustManagers(), null);
    http = HttpClient.newBuilder().sslContext(ssl).connectTimeout(Duration.ofSeconds(30)).build();
  }

  @AfterAll
  static void stop() {
    if (server != null) {
      server.close();
    }
  }

  /** A signed-in browser: its cookie and CSRF token. */
  record Browser(String cookie, String csrf) {}

  @Test
  void everyResponseCarriesTheSecurityHeaders_andTheSessionCookieIsHttpOnlySecureStrict() throws Exception {
    for (String path : List.of("/", "/console.js", "/console.css", "/api/session", "/no-such-page")) {
      HttpResponse<String> response = get(path, null, false);
      assertThat(response.headers().firstValue("Content-Security-Policy")).as(path)
          .hasValue("default-src 'self'; frame-ancestors 'none'");
      assertThat(response.headers().firstValue("X-Content-Type-Options")).as(path).hasValue("nosniff");
      assertThat(response.headers().firstValue("Referrer-Policy")).as(path).hasValue("no-referrer");
      assertThat(response.headers().firstValue("Cache-Control")).as(path).hasValue("no-store");
    }
    assertThat(get("/api/session", null, false).statusCode()).isEqualTo(401);
    HttpResponse<String> login = post("/api/login", null, "{\"credential\":\"" + ownerKey + "\"}", null);
    assertThat(login.statusCode()).isEqualTo(200);
    String cookie = login.headers().firstValue("Set-Cookie").orElseThrow();
    assertThat(cookie).startsWith("tether_console=").contains("HTTPOnly").contains("Secure")
        .contains("SameSite=Strict").contains("Path=/");
    assertThat(JSON.readTree(login.body()).at("/admin/role").asText()).isEqualTo("owner");
  }

  @Test
  void aWrongCredentialIsRefused_andTheRefusalIsAudited() throws Exception {
    HttpResponse<String> refused = post("/api/login", null, "{\"credential\":\"tak_notacredential\"}", null);
    assertThat(refused.statusCode()).isEqualTo(401);
    assertThat(JSON.readTree(refused.body()).get("error").asText()).contains("not the credential of an active admin");
    server.manager().adminRefusals().flush();
    assertThat(server.manager().store().listAudit(null, "unauthenticated", 100))
        .anySatisfy(e -> assertThat(e.detail()).contains("signing in to the web console"));
  }

  @Test
  void aStateChangingRequestWithoutTheCsrfToken_orFromAnotherOrigin_orNotJson_isRefused_andChangesNothing()
      throws Exception {
    Browser owner = signIn(ownerKey);
    String account = createAccount(owner, "csrf-target");
    String body = "{\"account\":\"" + account + "\",\"name\":\"forged\"}";
    HttpResponse<String> noToken = post("/api/tokens", owner.cookie(), body, null);
    assertThat(noToken.statusCode()).isEqualTo(403);
    assertThat(JSON.readTree(noToken.body()).get("error").asText()).contains("CSRF token");
    assertThat(post("/api/tokens", owner.cookie(), body, "not-the-token").statusCode()).isEqualTo(403);
    HttpResponse<String> crossOrigin = http.send(HttpRequest.newBuilder(URI.create(base + "/api/tokens"))
        .header("Content-Type", "application/json").header("Cookie", owner.cookie())
        .header("X-CSRF-Token", owner.csrf()).header("Origin", "https://evil.example")
        .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
    assertThat(crossOrigin.statusCode()).isEqualTo(403);
    HttpResponse<String> form = http.send(HttpRequest.newBuilder(URI.create(base + "/api/tokens"))
        .header("Content-Type", "application/x-www-form-urlencoded").header("Cookie", owner.cookie())
        .header("X-CSRF-Token", owner.csrf()).POST(HttpRequest.BodyPublishers.ofString("name=forged")).build(),
        HttpResponse.BodyHandlers.ofString());
    assertThat(form.statusCode()).isEqualTo(415);
    JsonNode tokens = JSON.readTree(get("/api/tokens?account=" + account, owner.cookie(), false).body());
    assertThat(tokens.get("tokens").findValuesAsText("name")).containsExactly("default");
  }

  @Test
  void aViewerReadsButCannotChangeAnything_andTheRefusalIsAuditedWithItsName() throws Exception {
    Browser owner = signIn(ownerKey);
    String account = createAccount(owner, "viewer-target");
    String viewerKey = server.manager().admins().create("console-viewer", AdminRole.VIEWER, Actor.named("test"))
        .secret().reveal();
    Browser viewer = signIn(viewerKey);
    assertThat(JSON.readTree(get("/api/session", viewer.cookie(), false).body()).at("/admin/role").asText())
        .isEqualTo("viewer");
    assertThat(get("/api/tokens?account=" + account, viewer.cookie(), false).statusCode()).isEqualTo(200);
    HttpResponse<String> create = post("/api/tokens", viewer.cookie(),
        "{\"account\":\"" + account + "\",\"name\":\"by-viewer\"}", viewer.csrf());
    assertThat(create.statusCode()).isEqualTo(403);
    assertThat(JSON.readTree(create.body()).get("error").asText()).contains("needs role operator");
    HttpResponse<String> revoke = post("/api/tokens/revoke", viewer.cookie(),
        "{\"account\":\"" + account + "\",\"name\":\"default\"}", viewer.csrf());
    assertThat(revoke.statusCode()).isEqualTo(403);
    JsonNode tokens = JSON.readTree(get("/api/tokens?account=" + account, owner.cookie(), false).body());
    assertThat(tokens.get("tokens").findValuesAsText("status")).containsExactly("ACTIVE");
    server.manager().adminRefusals().flush();
    assertThat(server.manager().store().listAudit(null, "console-viewer", 100)).extracting(AuditEvent::action)
        .contains("console.sign_in");
  }

  @Test
  void revokingTheAdminEndsItsConsoleSessionAtOnce() throws Exception {
    String key = server.manager().admins().create("console-operator", AdminRole.OPERATOR, Actor.named("test"))
        .secret().reveal();
    Browser operator = signIn(key);
    assertThat(get("/api/accounts", operator.cookie(), false).statusCode()).isEqualTo(200);
    server.manager().admins().revoke("console-operator", Actor.named("test"));
    HttpResponse<String> after = get("/api/accounts", operator.cookie(), false);
    assertThat(after.statusCode()).isEqualTo(401);
    assertThat(JSON.readTree(after.body()).get("error").asText()).contains("sign in again");
  }

  @Test
  void aOneTimeLinkSignsInOnce() throws Exception {
    String code = server.manager().consoleSessions().issueCode(
        server.manager().store().findAdmin("bootstrap").orElseThrow());
    HttpResponse<String> first = post("/api/login", null, "{\"code\":\"" + code + "\"}", null);
    assertThat(first.statusCode()).isEqualTo(200);
    assertThat(JSON.readTree(first.body()).at("/admin/name").asText()).isEqualTo("bootstrap");
    HttpResponse<String> again = post("/api/login", null, "{\"code\":\"" + code + "\"}", null);
    assertThat(again.statusCode()).isEqualTo(401);
    assertThat(JSON.readTree(again.body()).get("error").asText()).contains("console login");
  }

  @Test
  void signOutEndsTheSession() throws Exception {
    Browser owner = signIn(ownerKey);
    assertThat(post("/api/logout", owner.cookie(), "{}", owner.csrf()).statusCode()).isEqualTo(200);
    assertThat(get("/api/session", owner.cookie(), false).statusCode()).isEqualTo(401);
  }

  @Test
  void theInstallArchiveHoldsTheFilesInstallFilesWrites_withTheirModes_andAWrongValueIsRefused() throws Exception {
    Browser owner = signIn(ownerKey);
    String account = createAccount(owner, "install-target");
    JsonNode created = JSON.readTree(post("/api/tokens", owner.cookie(),
        "{\"account\":\"" + account + "\",\"name\":\"build\"}", owner.csrf()).body());
    String value = created.get("value").asText();
    TokenLedger.record(DelegateToken.parse("test", value));
    String request = "{\"account\":\"" + account + "\",\"tokenName\":\"%s\",\"value\":\"" + value + "\","
        + "\"type\":\"shell\",\"delegateName\":\"build-1\",\"managerUrl\":\"https://127.0.0.1:7443\"}";
    HttpResponse<byte[]> archive = http.send(HttpRequest.newBuilder(URI.create(base + "/api/install"))
        .header("Content-Type", "application/json").header("Cookie", owner.cookie())
        .header("X-CSRF-Token", owner.csrf()).POST(HttpRequest.BodyPublishers.ofString(request.formatted("build")))
        .build(), HttpResponse.BodyHandlers.ofByteArray());
    assertThat(archive.statusCode()).isEqualTo(200);
    assertThat(archive.headers().firstValue("Content-Type")).hasValue("application/zip");
    assertThat(archive.headers().firstValue("Content-Disposition"))
        .hasValue("attachment; filename=\"tether-delegate-build-1-shell.zip\"");
    Map<String, Integer> modes = new HashMap<>();
    Map<String, String> contents = new HashMap<>();
    // the modes are in the central directory, which unzip reads: read it as unzip does
    try (ZipFile zip = ZipFile.builder().setSeekableByteChannel(new SeekableInMemoryByteChannel(archive.body())).get()) {
      for (ZipArchiveEntry entry : java.util.Collections.list(zip.getEntries())) {
        modes.put(entry.getName(), entry.getUnixMode() & 0777);
        try (InputStream in = zip.getInputStream(entry)) {
          contents.put(entry.getName(), new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8));
        }
      }
    }
    assertThat(modes).containsEntry("start.sh", 0755).containsEntry("stop.sh", 0755)
        .containsEntry("delegate-token", 0600).containsKey("config-delegate.yaml");
    assertThat(contents.get("delegate-token").strip()).isEqualTo(value);
    assertThat(contents.get("config-delegate.yaml")).contains("https://127.0.0.1:7443").contains(account);

    HttpResponse<String> wrong = post("/api/install", owner.cookie(), request.formatted("default"), owner.csrf());
    assertThat(wrong.statusCode()).isEqualTo(409);
    assertThat(JSON.readTree(wrong.body()).get("error").asText()).contains("is not token 'default'")
        .doesNotContain(value);
    assertThat(server.manager().store().listAudit(account, "bootstrap", 100)).extracting(AuditEvent::action)
        .contains("install.files");
  }

  @Test
  void aTokenValueIsInTheResponseThatCreatedItAndInNoOther() throws Exception {
    Browser owner = signIn(ownerKey);
    String account = createAccount(owner, "secret-target");
    HttpResponse<String> created = post("/api/tokens", owner.cookie(),
        "{\"account\":\"" + account + "\",\"name\":\"once\",\"description\":\"shown once\",\"expiresInDays\":7}",
        owner.csrf());
    assertThat(created.statusCode()).isEqualTo(200);
    assertThat(created.headers().firstValue("Cache-Control")).hasValue("no-store");
    String value = JSON.readTree(created.body()).get("value").asText();
    TokenLedger.record(DelegateToken.parse("test", value));
    JsonNode token = JSON.readTree(created.body()).get("token");
    assertThat(token.get("status").asText()).isEqualTo("ACTIVE");
    assertThat(token.get("description").asText()).isEqualTo("shown once");
    assertThat(token.get("expiresAt").asText()).matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ");
    int before = BODIES.size();
    for (String path : List.of("/api/session", "/api/accounts", "/api/tokens?account=" + account,
        "/api/delegates?account=" + account, "/api/audit", "/api/audit?account=" + account, "/api/install/defaults")) {
      assertThat(get(path, owner.cookie(), false).statusCode()).as(path).isEqualTo(200);
    }
    post("/api/tokens/revoke", owner.cookie(), "{\"account\":\"" + account + "\",\"name\":\"once\",\"dryRun\":true}",
        owner.csrf());
    post("/api/tokens/revoke", owner.cookie(), "{\"account\":\"" + account + "\",\"name\":\"once\"}", owner.csrf());
    assertThat(BODIES.subList(before, BODIES.size())).hasSizeGreaterThanOrEqualTo(9)
        .allSatisfy(entry -> assertThat(entry[1]).as(entry[0]).doesNotContain(value));
    JsonNode audit = JSON.readTree(get("/api/audit?account=" + account + "&admin=bootstrap", owner.cookie(), false)
        .body());
    assertThat(audit.get("events").findValuesAsText("action")).contains("token.create", "token.revoke");
    assertThat(audit.get("events").findValuesAsText("actor")).containsOnly("bootstrap");
  }

  @Test
  void badInputGetsAClearError() throws Exception {
    Browser owner = signIn(ownerKey);
    HttpResponse<String> notJson = post("/api/tokens", owner.cookie(), "{not json", owner.csrf());
    assertThat(notJson.statusCode()).isEqualTo(400);
    assertThat(JSON.readTree(notJson.body()).get("error").asText()).contains("not JSON");
    HttpResponse<String> missing = post("/api/tokens", owner.cookie(), "{\"name\":\"x\"}", owner.csrf());
    assertThat(JSON.readTree(missing.body()).get("error").asText()).isEqualTo("\"account\" is missing");
    HttpResponse<String> days = post("/api/tokens", owner.cookie(),
        "{\"account\":\"a\",\"name\":\"x\",\"expiresInDays\":0}", owner.csrf());
    assertThat(JSON.readTree(days.body()).get("error").asText()).contains("expiresInDays").contains("1 to 3650");
    HttpResponse<String> state = get("/api/delegates?account=a&state=sleeping", owner.cookie(), false);
    assertThat(state.statusCode()).isEqualTo(400);
    assertThat(JSON.readTree(state.body()).get("error").asText()).contains("'sleeping'").contains("connected");
    HttpResponse<String> unknown = get("/api/tokens?account=no-such-account", owner.cookie(), false);
    assertThat(unknown.statusCode()).isEqualTo(404);
  }

  private static Browser signIn(String credential) throws Exception {
    HttpResponse<String> login = post("/api/login", null, "{\"credential\":\"" + credential + "\"}", null);
    assertThat(login.statusCode()).as(login.body()).isEqualTo(200);
    String cookie = login.headers().firstValue("Set-Cookie").orElseThrow().split(";")[0];
    return new Browser(cookie, JSON.readTree(login.body()).get("csrf").asText());
  }

  private static String createAccount(Browser browser, String name) throws Exception {
    HttpResponse<String> created = post("/api/accounts", browser.cookie(), "{\"name\":\"" + name + "\"}",
        browser.csrf());
    assertThat(created.statusCode()).as(created.body()).isEqualTo(200);
    JsonNode body = JSON.readTree(created.body());
    TokenLedger.record(DelegateToken.parse("test", body.get("value").asText()));
    return body.at("/account/id").asText();
  }

  private static HttpResponse<String> get(String path, String cookie, boolean background)
      throws IOException, InterruptedException {
    HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(base + path)).GET();
    if (cookie != null) {
      request.header("Cookie", cookie);
    }
    if (background) {
      request.header("X-Tether-Background", "1");
    }
    return remember(path, http.send(request.build(), HttpResponse.BodyHandlers.ofString()));
  }

  private static HttpResponse<String> post(String path, String cookie, String body, String csrf)
      throws IOException, InterruptedException {
    HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(base + path))
        .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body));
    if (cookie != null) {
      request.header("Cookie", cookie);
    }
    if (csrf != null) {
      request.header("X-CSRF-Token", csrf);
    }
    return remember(path, http.send(request.build(), HttpResponse.BodyHandlers.ofString()));
  }

  private static HttpResponse<String> remember(String path, HttpResponse<String> response) {
    synchronized (BODIES) {
      BODIES.add(new String[] {path, response.body()});
    }
    return response;
  }
}
