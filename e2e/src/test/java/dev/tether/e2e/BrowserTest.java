package dev.tether.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The console tests' browser support on pages of its own, served by the JDK's HTTP server on
 * loopback with the console's CSP: each check it makes finds what it is there to find (a CSP
 * refusal, an axe-core violation, the clipboard's text) and the screenshots have the two widths.
 */
class BrowserTest {

  private static final String CSP = "default-src 'self'; frame-ancestors 'none'";
  private static final Map<String, String> PAGES = Map.of(
      "/good.html", "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"
          + "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>Good</title>"
          + "<script src=\"good.js\" defer></script></head><body><main><h1>Good</h1>"
          + "<label for=\"n\">Name</label><input id=\"n\" data-testid=\"name\">"
          + "<p data-testid=\"greeting\">  hello  </p></main></body></html>",
      "/good.js", "document.body.dataset.ran = 'yes';",
      "/inline.html", "<!DOCTYPE html><html lang=\"en\"><head><title>Inline</title></head><body><main>"
          + "<h1>Inline</h1><script>document.title = 'ran';</script></main></body></html>",
      "/unlabelled.html", "<!DOCTYPE html><html lang=\"en\"><head><title>Unlabelled</title></head><body><main>"
          + "<h1>Unlabelled</h1><input data-testid=\"nameless\"><img src=\"good.js\"></main></body></html>");

  @TempDir static Path work;
  private static HttpServer server;
  private static Browser browser;
  private static String origin;

  @BeforeAll
  static void start() throws IOException {
    server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    server.createContext("/", exchange -> {
      String page = PAGES.get(exchange.getRequestURI().getPath());
      byte[] body = (page == null ? "not found" : page).getBytes(StandardCharsets.UTF_8);
      exchange.getResponseHeaders().set("Content-Type",
          exchange.getRequestURI().getPath().endsWith(".js") ? "text/javascript" : "text/html; charset=utf-8");
      exchange.getResponseHeaders().set("Content-Security-Policy", CSP);
      exchange.sendResponseHeaders(page == null ? 404 : 200, body.length);
      exchange.getResponseBody().write(body);
      exchange.close();
    });
    server.start();
    origin = "http://127.0.0.1:" + server.getAddress().getPort();
    browser = new Browser(work.resolve("logs/browser-console.log"));
  }

  @AfterAll
  static void stop() {
    if (browser != null) {
      browser.close();
    }
    if (server != null) {
      server.stop(0);
    }
  }

  @Test
  void aPageWithinItsCsp_passes_andAnInlineScriptIsCaughtAsACspViolation() {
    browser.open(origin + "/good.html");
    assertThat(browser.byTestId("name").isDisplayed()).isTrue();
    assertThat(browser.text("greeting")).isEqualTo("hello");
    assertThat(browser.driver().executeScript("return document.body.dataset.ran;")).isEqualTo("yes");
    browser.assertNoScriptErrors();

    browser.open(origin + "/inline.html");

    assertThat(browser.driver().getTitle()).as("the CSP stopped the inline script").isEqualTo("Inline");
    assertThatThrownBy(browser::assertNoScriptErrors).isInstanceOf(AssertionError.class)
        .hasMessageContaining("Content Security Policy");
    assertThat(work.resolve("logs/browser-console.log")).content().contains("Content Security Policy");
  }

  @Test
  void axe_passesALabelledPage_andListsTheRuleAndElementOfAnUnlabelledInput() {
    browser.open(origin + "/good.html");
    browser.assertAccessible("good.html");

    browser.open(origin + "/unlabelled.html");

    assertThatThrownBy(() -> browser.assertAccessible("unlabelled.html")).isInstanceOf(AssertionError.class)
        .hasMessageContaining("unlabelled.html").hasMessageContaining("label (critical)")
        .hasMessageContaining("image-alt (critical)").hasMessageContaining("input");
  }

  @Test
  void theClipboard_holdsWhatThePageWrote() {
    browser.open(origin + "/good.html");
    browser.grantClipboard(origin);

    Object written = browser.driver().executeAsyncScript("const done = arguments[arguments.length - 1];"
        + "navigator.clipboard.writeText('copied ' + arguments[0]).then(() => done('ok'), e => done(String(e)));",
        "value");

    assertThat(written).isEqualTo("ok");
    assertThat(browser.clipboard()).isEqualTo("copied value");
  }

  @Test
  void fetch_returnsTheStatusAndBodyOfASameOriginRequest() {
    browser.open(origin + "/good.html");

    Map<String, Object> found = browser.fetch("GET", "/good.js", Map.of(), null);
    Map<String, Object> missing = browser.fetch("POST", "/nothing", Map.of("Content-Type", "application/json"), "{}");

    assertThat(found).containsEntry("status", 200).containsEntry("body", PAGES.get("/good.js"));
    assertThat(missing).containsEntry("status", 404);
  }

  @Test
  void screenshots_areSavedAtDesktopAndPhoneWidth() throws IOException {
    browser.open(origin + "/good.html");

    browser.screenshots("browser-test");

    assertThat(pngSize(Browser.SCREENSHOTS.resolve("browser-test.png")))
        .containsExactly(Browser.DESKTOP_WIDTH, Browser.DESKTOP_HEIGHT);
    assertThat(pngSize(Browser.SCREENSHOTS.resolve("browser-test-phone.png")))
        .containsExactly(Browser.PHONE_WIDTH, Browser.PHONE_HEIGHT);
    assertThat(browser.driver().executeScript("return window.innerWidth;"))
        .as("the phone emulation ends with the screenshot").isEqualTo((long) Browser.DESKTOP_WIDTH);
  }

  /** Width and height from a PNG's IHDR chunk (bytes 16-23, big-endian). */
  private static int[] pngSize(Path png) throws IOException {
    try (InputStream in = Files.newInputStream(png)) {
      byte[] head = in.readNBytes(24);
      assertThat(new String(head, 1, 3, StandardCharsets.US_ASCII)).isEqualTo("PNG");
      ByteBuffer ihdr = ByteBuffer.wrap(head, 16, 8);
      return new int[] {ihdr.getInt(), ihdr.getInt()};
    }
  }
}
