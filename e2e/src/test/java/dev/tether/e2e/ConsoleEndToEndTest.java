package dev.tether.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tether.common.testing.TokenLedger;
import dev.tether.common.token.DelegateToken;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.Cookie;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.support.ui.Select;

/**
 * The web console in a real headless chromium against the real manager and delegate jars: the
 * seed's whole flow (sign in, create an account, generate a token, copy it, start a delegate with
 * it, watch it connect live, revoke it through the confirmation dialog, see it cut and the process
 * exit 78), a viewer's missing buttons and refused requests, CSRF, the value shown once and nowhere
 * else, the one-time sign-in link, the security headers, the end of a revoked admin's session, and
 * axe-core on every page with screenshots at desktop and phone width.
 */
class ConsoleEndToEndTest {

  private static final String NAME = "ConsoleEndToEndTest";
  private static final String CSP = "default-src 'self'; frame-ancestors 'none'";
  private static final Duration START = Duration.ofSeconds(60);
  /** The Delegates page polls every 2 s; a loaded 2-core machine may take much longer to show a change. */
  private static final Duration LIVE = Duration.ofSeconds(60);
  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir static Path work;
  private static Tether tether;
  private static Browser browser;
  private static String console;
  private static String ownerKey;
  private static HttpClient http;
  /** The bootstrap owner's own API session (cookie, CSRF token), for the tests' fixtures: no JVM per call. */
  private static String ownerCookie;
  private static String ownerCsrf;

  @BeforeAll
  static void start() throws Exception {
    tether = new Tether(work.resolve("data"), NAME).start();
    console = tether.consoleUrl();
    assertThat(console).startsWith("https://127.0.0.1:");
    ownerKey = Files.readString(tether.dataDir.resolve("admin.key")).strip();
    browser = new Browser(Tether.LOGS.resolve(NAME).resolve("browser-console.log"));
    browser.grantClipboard(console);
    http = HttpClient.newBuilder().sslContext(trusting(tether.dataDir.resolve("tls/manager.crt")))
        .connectTimeout(Duration.ofSeconds(30)).build();
    HttpResponse<String> login = send(HttpRequest.newBuilder(URI.create(console + "/api/login"))
        .header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString("{\"credential\":\"" + ownerKey + "\"}")));
    assertThat(login.statusCode()).as("owner sign-in: %s", login.body()).isEqualTo(200);
    ownerCookie = login.headers().firstValue("Set-Cookie").orElseThrow().split(";", 2)[0];
    ownerCsrf = JSON.readTree(login.body()).get("csrf").asText();
  }

  @AfterAll
  static void stop() throws Exception {
    if (browser != null) {
      browser.close();
    }
    if (tether != null) {
      tether.stopManager();
      tether.close();
      assertThat(TokenLedger.values()).as("token values recorded for the scan").isNotEmpty();
      assertThat(tether.leaksInOutputs()).as("token values in the manager's or the delegates' output").isEmpty();
    }
  }

  /** Each test starts signed out, on a freshly loaded page. */
  @BeforeEach
  void signedOut() {
    browser.open(console + "/");
    browser.driver().manage().deleteAllCookies();
    browser.open("about:blank");
    browser.open(console + "/");
    browser.byTestId("sign-in-credential");
  }

  @AfterEach
  void noCspViolationOrScriptError() {
    browser.assertNoScriptErrors();
  }

  @Test
  void theSeedsFlow_generateCopyConnectLiveRevokeThroughTheDialog_andTheDelegateExits78() throws Exception {
    signIn(ownerKey);
    assertThat(browser.text("signed-in-as")).isEqualTo("bootstrap (owner)");

    browser.byTestId("new-account-name").sendKeys("Payments");
    browser.byTestId("create-account").click();
    String defaultValue = dialogValue("the new account's default token");
    closeTokenDialog();
    Select accounts = new Select(browser.byTestId("account-select"));
    await("the new account in the account picker").atMost(LIVE).ignoreExceptions()
        .until(() -> { accounts.selectByVisibleText("Payments"); return true; });
    String account = accounts.getFirstSelectedOption().getDomProperty("value");
    assertThat(owner("GET", "/api/tokens?account=" + account, null).get("tokens").findValuesAsText("name"))
        .containsExactly("default");

    browser.byTestId("token-name-input").sendKeys("ci");
    browser.byTestId("generate-token").click();
    String value = dialogValue("the generated token 'ci'");
    assertThat(value).isNotEqualTo(defaultValue);
    browser.byTestId("copy-token").click();
    await("the value on the clipboard").atMost(LIVE).until(browser::clipboard, value::equals);
    check("token-dialog");
    closeTokenDialog();
    awaitText("token-status-ci", "ACTIVE");
    check("tokens");

    browser.byTestId("nav-delegates").click();
    browser.byTestId("delegate-state-filter");
    // a page reload would drop this mark: the delegate must appear without one
    browser.driver().executeScript("window.tetherNoReload = true;");
    assertThat(browser.allByTestId("delegate-row-seed-1")).isEmpty();
    Proc delegate = tether.delegate("seed-1", tether.env(account, value));
    delegate.awaitLine("connected to", START);
    awaitText("delegate-status-seed-1", "connected");
    assertThat(browser.driver().executeScript("return window.tetherNoReload === true;"))
        .as("the Delegates page showed the delegate without a reload").isEqualTo(true);
    check("delegates");

    browser.byTestId("nav-tokens").click();
    browser.byTestId("revoke-ci").click();
    WebElement affected = browser.byTestId("revoke-affected");
    assertThat(affected.findElements(By.tagName("li"))).singleElement()
        .satisfies(li -> assertThat(li.getText()).contains("seed-1"));
    check("revoke-dialog");
    browser.byTestId("confirm-revoke").click();

    awaitText("revoked-count", "1");
    awaitText("token-status-ci", "REVOKED");
    check("token-revoked");
    assertThat(delegate.awaitExit(Duration.ofSeconds(60))).isEqualTo(78);
    browser.byTestId("nav-delegates").click();
    awaitText("delegate-status-seed-1", "disconnected");
  }

  @Test
  void aViewer_seesNoGenerateOrRevokeButton_andItsForgedRequestsAreRefused403() throws Exception {
    String viewerKey = createAdmin("auditor", "viewer");
    String account = account("viewer-acct");
    token(account, "vt");

    signIn(viewerKey);
    assertThat(browser.text("signed-in-as")).isEqualTo("auditor (viewer)");
    new Select(browser.byTestId("account-select")).selectByVisibleText("viewer-acct");
    awaitText("token-status-vt", "ACTIVE");

    assertThat(browser.allByTestId("generate-token")).as("Generate button").isEmpty();
    assertThat(browser.allByTestId("revoke-vt")).as("Revoke button").isEmpty();
    assertThat(browser.allByTestId("create-account")).as("Create account button").isEmpty();
    String csrf = JSON.readTree((String) browser.fetch("GET", "/api/session", Map.of(), null).get("body"))
        .get("csrf").asText();
    Map<String, String> headers = Map.of("Content-Type", "application/json", "X-CSRF-Token", csrf);
    Map<String, Object> generate = browser.fetch("POST", "/api/tokens", headers,
        "{\"account\":\"" + account + "\",\"name\":\"forged\"}");
    Map<String, Object> revoke = browser.fetch("POST", "/api/tokens/revoke", headers,
        "{\"account\":\"" + account + "\",\"name\":\"vt\",\"dryRun\":false}");

    assertThat(generate.get("status")).as("generate: %s", generate.get("body")).isEqualTo(403);
    assertThat(revoke.get("status")).as("revoke: %s", revoke.get("body")).isEqualTo(403);
    JsonNode tokens = owner("GET", "/api/tokens?account=" + account, null).get("tokens");
    assertThat(tokens.findValuesAsText("name")).containsExactlyInAnyOrder("default", "vt");
    assertThat(tokens.findValuesAsText("status")).containsOnly("ACTIVE");
  }

  @Test
  void aStateChangingRequestWithoutTheCsrfToken_orAWrongOne_isRefused403_andCreatesNothing() throws Exception {
    String account = account("csrf-acct");
    signIn(ownerKey);
    String csrf = JSON.readTree((String) browser.fetch("GET", "/api/session", Map.of(), null).get("body"))
        .get("csrf").asText();
    Map<String, String> json = Map.of("Content-Type", "application/json");

    Map<String, Object> without = browser.fetch("POST", "/api/tokens", json,
        "{\"account\":\"" + account + "\",\"name\":\"no-csrf\"}");
    Map<String, Object> wrong = browser.fetch("POST", "/api/tokens",
        Map.of("Content-Type", "application/json", "X-CSRF-Token", csrf + "x"),
        "{\"account\":\"" + account + "\",\"name\":\"wrong-csrf\"}");

    assertThat(without.get("status")).as("%s", without.get("body")).isEqualTo(403);
    assertThat(JSON.readTree((String) without.get("body")).get("error").asText()).contains("CSRF");
    assertThat(wrong.get("status")).as("%s", wrong.get("body")).isEqualTo(403);

    // the same request with the session's CSRF token is what the page sends, and it works
    Map<String, Object> right = browser.fetch("POST", "/api/tokens",
        Map.of("Content-Type", "application/json", "X-CSRF-Token", csrf),
        "{\"account\":\"" + account + "\",\"name\":\"with-csrf\"}");
    assertThat(right.get("status")).isEqualTo(200);
    TokenLedger.record(DelegateToken.parse("created token", JSON.readTree((String) right.get("body")).get("value").asText()));
    assertThat(tether.cli("token", "list", "--account", account).ok().out())
        .contains("with-csrf").doesNotContain("no-csrf").doesNotContain("wrong-csrf");
  }

  @Test
  void aTokenValue_isInTheResponseThatCreatedItAndNowhereElse() throws Exception {
    String account = account("secret-acct");
    Proc manager = tether.manager();
    signIn(ownerKey);
    new Select(browser.byTestId("account-select")).selectByVisibleText("secret-acct");
    browser.byTestId("token-name-input").sendKeys("once");
    browser.byTestId("generate-token").click();
    String value = dialogValue("the generated token 'once'");
    closeTokenDialog();
    assertThat(browser.text("token-value")).as("the dialog forgets the value when closed").isEmpty();
    awaitText("token-status-once", "ACTIVE");

    List<String> gets = List.of("/", "/index.html", "/console.js", "/console.css", "/api/session", "/api/accounts",
        "/api/tokens?account=" + account, "/api/delegates?account=" + account, "/api/install/defaults",
        "/api/audit", "/api/audit?account=" + account + "&limit=1000");
    for (String path : gets) {
      Map<String, Object> response = browser.fetch("GET", path, Map.of(), null);
      assertThat(response.get("status")).as(path).isEqualTo(200);
      assertThat((String) response.get("body")).as("GET %s", path).doesNotContain(value);
    }
    assertThat(browser.driver().getCurrentUrl()).doesNotContain(value);
    assertThat(browser.driver().getPageSource()).as("the page after the dialog closed").doesNotContain(value);
    assertThat(manager.stdout() + manager.stderr()).as("the manager's log").doesNotContain(value);
    assertThat(browser.consoleLog()).as("the browser's console").noneMatch(line -> line.contains(value));
  }

  @Test
  void theOneTimeSignInLink_signsInOnce() {
    String url = tether.cli("console", "login").ok().out().strip();
    assertThat(url).startsWith(console + "/#login=");

    browser.open("about:blank");
    browser.open(url);
    awaitText("signed-in-as", "bootstrap (owner)");
    assertThat(browser.driver().getCurrentUrl()).as("the code leaves the address bar").doesNotContain("login=");

    browser.driver().manage().deleteAllCookies();
    browser.open("about:blank");
    browser.open(url);
    browser.byTestId("sign-in-credential");
    assertThat(browser.byTestId("error-banner").getText()).contains("link");
    assertThat(browser.allByTestId("signed-in-as")).singleElement()
        .satisfies(e -> assertThat(e.isDisplayed()).as("signed in the second time").isFalse());
    assertThat(browser.fetch("GET", "/api/session", Map.of(), null).get("status")).isEqualTo(401);
  }

  @Test
  void aSignInLinkOpenedWhileSignedIn_isNotUsed_andTheSessionStaysWhoItWas() {
    String viewerKey = createAdmin("link-viewer", "viewer");
    signIn(viewerKey);
    awaitText("signed-in-as", "link-viewer (viewer)");
    // someone else's link (the bootstrap owner's), opened into this browser
    String url = tether.cli("console", "login").ok().out().strip();
    browser.open(url);
    await("the refusal").atMost(LIVE).until(() -> browser.displayed("error-banner"));
    assertThat(browser.byTestId("error-banner").getText()).contains("signed in as link-viewer")
        .contains("was not used");
    assertThat(browser.text("signed-in-as")).isEqualTo("link-viewer (viewer)");
    assertThat(browser.driver().getCurrentUrl()).doesNotContain("login=");
    // the link was not spent: signed out, the same link still signs in, once
    browser.driver().manage().deleteAllCookies();
    browser.open("about:blank");
    browser.open(url);
    awaitText("signed-in-as", "bootstrap (owner)");
  }

  @Test
  void everyResponseCarriesTheSecurityHeaders_andTheSessionCookieIsHttpOnlySecureStrict() throws Exception {
    for (String path : List.of("/", "/console.js", "/api/session", "/no-such-page")) {
      HttpResponse<String> response = http.send(HttpRequest.newBuilder(URI.create(console + path)).build(),
          HttpResponse.BodyHandlers.ofString());
      assertThat(response.headers().firstValue("Content-Security-Policy")).as(path).hasValue(CSP);
      assertThat(response.headers().firstValue("X-Content-Type-Options")).as(path).hasValue("nosniff");
      assertThat(response.headers().firstValue("Referrer-Policy")).as(path).hasValue("no-referrer");
      if (path.startsWith("/api/")) {
        assertThat(response.headers().firstValue("Cache-Control")).as(path).hasValue("no-store");
      }
    }
    HttpResponse<String> login = http.send(HttpRequest.newBuilder(URI.create(console + "/api/login"))
        .header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString("{\"credential\":\"" + ownerKey + "\"}")).build(),
        HttpResponse.BodyHandlers.ofString());
    assertThat(login.statusCode()).isEqualTo(200);
    assertThat(login.headers().firstValue("Cache-Control")).hasValue("no-store");
    String setCookie = login.headers().firstValue("Set-Cookie").orElseThrow().toLowerCase(java.util.Locale.ROOT);
    assertThat(setCookie).startsWith("tether_console=").contains("httponly").contains("secure")
        .contains("samesite=strict").contains("path=/");

    signIn(ownerKey);
    Cookie cookie = browser.driver().manage().getCookieNamed("tether_console");
    assertThat(cookie).as("the browser's session cookie").isNotNull();
    assertThat(cookie.isHttpOnly()).isTrue();
    assertThat(cookie.isSecure()).isTrue();
    assertThat(cookie.getSameSite()).isEqualTo("Strict");
    assertThat(browser.driver().executeScript("return document.cookie;")).as("hidden from scripts")
        .asString().doesNotContain("tether_console");
  }

  @Test
  void revokingTheAdmin_endsItsConsoleSession_andThePageShowsTheSignInForm() {
    String key = createAdmin("leaver", "operator");
    signIn(key);
    assertThat(browser.text("signed-in-as")).isEqualTo("leaver (operator)");
    assertThat(browser.fetch("GET", "/api/session", Map.of(), null).get("status")).isEqualTo(200);

    tether.cli("admin", "revoke", "leaver").ok();

    assertThat(browser.fetch("GET", "/api/session", Map.of(), null).get("status")).isEqualTo(401);
    browser.byTestId("nav-audit").click();
    browser.byTestId("sign-in-credential");
    assertThat(browser.displayed("signed-in-as")).isFalse();
  }

  @Test
  void everyPage_hasNoSeriousOrCriticalAccessibilityViolation() throws Exception {
    check("sign-in");
    String account = account("a11y-acct");
    token(account, "old");
    owner("POST", "/api/tokens/revoke", "{\"account\":\"" + account + "\",\"name\":\"old\",\"dryRun\":false}");

    signIn(ownerKey);
    new Select(browser.byTestId("account-select")).selectByVisibleText("a11y-acct");
    browser.byTestId("token-name-input").sendKeys("build");
    browser.byTestId("generate-token").click();
    dialogValue("the generated token 'build'");
    check("a11y-token-dialog");
    closeTokenDialog();
    awaitText("token-status-build", "ACTIVE");
    awaitText("token-status-old", "REVOKED");
    check("a11y-tokens");
    browser.byTestId("revoke-build").click();
    browser.byTestId("revoke-none");
    check("a11y-revoke-dialog-none");
    browser.driver().findElement(By.id("cancel-revoke")).click();

    browser.byTestId("nav-delegates").click();
    browser.byTestId("delegate-state-filter");
    check("a11y-delegates");
    browser.byTestId("nav-install").click();
    browser.byTestId("install-type");
    check("install");
    browser.byTestId("nav-audit").click();
    await("audit rows").atMost(LIVE).until(() -> !browser.allByTestId("audit-row").isEmpty());
    check("audit");
  }

  @Test
  void markupInADescription_isShownAsText_andNeverRuns() throws Exception {
    String account = account("markup-acct");
    String markup = "<img src=x onerror=\"document.title='pwned'\"><b>bold</b>";
    JsonNode created = owner("POST", "/api/tokens", "{\"account\":\"" + account + "\",\"name\":\"markup\","
        + "\"description\":" + JSON.writeValueAsString(markup) + "}");
    TokenLedger.record(DelegateToken.parse("created token", created.get("value").asText()));
    signIn(ownerKey);
    new Select(browser.byTestId("account-select")).selectByVisibleText("markup-acct");
    await("the token's row").atMost(LIVE).until(() -> browser.displayed("token-row-markup"));
    WebElement row = browser.byTestId("token-row-markup");
    assertThat(row.getText()).contains(markup);
    assertThat(row.findElements(By.tagName("img"))).isEmpty();
    assertThat(row.findElements(By.tagName("b"))).isEmpty();
    assertThat(browser.driver().getTitle()).isNotEqualTo("pwned");
  }

  /** Creates an account through the owner's API session; returns its id. */
  private static String account(String name) throws IOException {
    JsonNode created = owner("POST", "/api/accounts", "{\"name\":\"" + name + "\"}");
    TokenLedger.record(DelegateToken.parse("default token", created.get("value").asText()));
    return created.at("/account/id").asText();
  }

  /** Creates a token through the owner's API session; returns its value. */
  private static String token(String account, String name) throws IOException {
    JsonNode created = owner("POST", "/api/tokens", "{\"account\":\"" + account + "\",\"name\":\"" + name + "\"}");
    return TokenLedger.record(DelegateToken.parse("created token", created.get("value").asText())).reveal();
  }

  /** A request as the bootstrap owner (cookie and CSRF token of its own session); the answer must be 200. */
  private static JsonNode owner(String method, String path, String json) throws IOException {
    HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(console + path)).header("Cookie", ownerCookie);
    if (json != null) {
      request.header("Content-Type", "application/json").header("X-CSRF-Token", ownerCsrf);
    }
    HttpResponse<String> response = send(request.method(method, json == null
        ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(json)));
    assertThat(response.statusCode()).as("%s %s: %s", method, path, response.body()).isEqualTo(200);
    return JSON.readTree(response.body());
  }

  private static HttpResponse<String> send(HttpRequest.Builder request) throws IOException {
    try {
      return http.send(request.timeout(Duration.ofSeconds(60)).build(), HttpResponse.BodyHandlers.ofString());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }

  /** Signs in through the form with {@code credential}; waits for the signed-in page. */
  private static void signIn(String credential) {
    browser.byTestId("sign-in-credential").sendKeys(credential);
    browser.byTestId("sign-in").click();
    await("signed in").atMost(LIVE).until(() -> !String.valueOf(browser.text("signed-in-as")).isEmpty());
  }

  /** The value the one-time dialog shows, recorded for the leak scans. */
  private static String dialogValue(String what) {
    browser.byTestId("token-value");
    await(what + " in the dialog").atMost(LIVE).until(() -> !browser.text("token-value").isEmpty());
    String value = browser.text("token-value");
    TokenLedger.record(DelegateToken.parse(what, value));
    return value;
  }

  private static void closeTokenDialog() {
    browser.byTestId("close-token-dialog").click();
    await("the value dialog closed").atMost(LIVE).until(() -> !browser.displayed("token-value"));
  }

  private static void awaitText(String testId, String text) {
    await("[data-testid=" + testId + "] to read '" + text + "'").atMost(LIVE).pollInterval(Duration.ofMillis(200))
        .until(() -> browser.text(testId), text::equals);
  }

  /** axe-core on the page as it is, no CSP violation so far, and its screenshots. */
  private static void check(String name) {
    browser.screenshots(name);
    browser.assertAccessible(name);
    browser.assertNoScriptErrors();
  }

  /** A new admin created by the bootstrap owner through the CLI; returns its credential. */
  private static String createAdmin(String name, String role) {
    String key = tether.cli("admin", "create", name, "--role", role, "--field", "value").ok().out().strip();
    assertThat(key).startsWith("tak_");
    return key;
  }

  /** TLS that trusts the manager's own certificate (self-signed by default) and nothing else. */
  private static SSLContext trusting(Path certificate) throws Exception {
    KeyStore trust = KeyStore.getInstance(KeyStore.getDefaultType());
    trust.load(null, null);
    try (InputStream in = Files.newInputStream(certificate)) {
      int i = 0;
      for (Certificate c : CertificateFactory.getInstance("X.509").generateCertificates(in)) {
        trust.setCertificateEntry("manager-" + i++, c);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    TrustManagerFactory factory = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    factory.init(trust);
    SSLContext ssl = SSLContext.getInstance("TLS");
    ssl.init(null, factory.getTrustManagers(), null);
    return ssl;
  }
}
