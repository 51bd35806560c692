package dev.tether.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.logging.Level;
import org.awaitility.Awaitility;
import org.openqa.selenium.By;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.chromium.ChromiumDriverLogLevel;
import org.openqa.selenium.logging.LogEntry;
import org.openqa.selenium.logging.LogType;
import org.openqa.selenium.logging.LoggingPreferences;

/**
 * A headless Debian chromium driven through its chromedriver, with what the console's tests need
 * around it: elements by {@code data-testid}, the clipboard, axe-core accessibility runs,
 * screenshots at desktop and phone width, and the browser's console log (where CSP violations show).
 */
final class Browser implements AutoCloseable {

  /** Debian's packages (.ci/run installs them); never a driver Selenium Manager would download. */
  static final Path CHROMIUM = Path.of(System.getProperty("tether.chromium", "/usr/bin/chromium"));
  static final Path CHROMEDRIVER = Path.of(System.getProperty("tether.chromedriver", "/usr/bin/chromedriver"));
  static final Path SCREENSHOTS = Path.of(System.getProperty("tether.console.screenshots", "target/console-screenshots"));
  /** The npm axe-core build, on the test classpath through com.deque.html.axe-core:selenium (e2e/pom.xml). */
  static final String AXE_RESOURCE = "axe.min.js";

  static final int DESKTOP_WIDTH = 1280;
  static final int DESKTOP_HEIGHT = 900;
  static final int PHONE_WIDTH = 390;
  static final int PHONE_HEIGHT = 844;

  private final ChromeDriver driver;
  private final Path consoleLog;
  private final List<String> consoleLines = new ArrayList<>();

  /** Starts the browser; its console log goes to {@code consoleLog} (inside the folders the secret scan reads). */
  Browser(Path consoleLog) {
    assertThat(CHROMIUM).as("chromium (Debian package 'chromium'; .ci/run installs it: apt-get install chromium"
        + " chromium-driver)").isExecutable();
    assertThat(CHROMEDRIVER).as("chromedriver (Debian package 'chromium-driver'; .ci/run installs it: apt-get"
        + " install chromium chromium-driver)").isExecutable();
    this.consoleLog = consoleLog;
    ChromeOptions options = new ChromeOptions();
    options.setBinary(CHROMIUM.toFile());
    options.addArguments("--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
        "--window-size=" + DESKTOP_WIDTH + "," + DESKTOP_HEIGHT);
    // the manager's certificate is self-signed by default
    options.setAcceptInsecureCerts(true);
    LoggingPreferences logs = new LoggingPreferences();
    logs.enable(LogType.BROWSER, Level.ALL);
    options.setCapability("goog:loggingPrefs", logs);
    ChromeDriverService service = new ChromeDriverService.Builder()
        .usingDriverExecutable(CHROMEDRIVER.toFile())
        .usingAnyFreePort()
        .withLogFile(new File(consoleLog.resolveSibling("chromedriver.log").toString()))
        // at INFO the driver logs every command's result, such as a token value a test reads from the page
        .withLogLevel(ChromiumDriverLogLevel.WARNING)
        .build();
    try {
      Files.createDirectories(consoleLog.getParent());
      Files.deleteIfExists(consoleLog);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    driver = new ChromeDriver(service, options);
    driver.manage().timeouts().scriptTimeout(Duration.ofSeconds(60));
  }

  ChromeDriver driver() {
    return driver;
  }

  void open(String url) {
    driver.get(url);
  }

  /** Lets pages of {@code origin} read and write the clipboard without asking (a test has no one to click Allow). */
  void grantClipboard(String origin) {
    driver.executeCdpCommand("Browser.grantPermissions", Map.of("origin", origin,
        "permissions", List.of("clipboardReadWrite", "clipboardSanitizedWrite")));
    // the clipboard API answers only a focused page; a headless window may not count as focused
    driver.executeCdpCommand("Emulation.setFocusEmulationEnabled", Map.of("enabled", true));
  }

  /** The clipboard's text, read by the page with navigator.clipboard.readText(). */
  String clipboard() {
    Object text = driver.executeAsyncScript("const done = arguments[arguments.length - 1];"
        + "navigator.clipboard.readText().then(t => done({text: t}), e => done({error: String(e)}));");
    Map<?, ?> result = (Map<?, ?>) text;
    assertThat(result.get("error")).as("reading the clipboard").isNull();
    return (String) result.get("text");
  }

  static By testId(String id) {
    return By.cssSelector("[data-testid=\"" + id + "\"]");
  }

  /** The one element with {@code data-testid=id}, waiting until it is in the page and displayed. */
  WebElement byTestId(String id) {
    WebElement[] found = new WebElement[1];
    Awaitility.await("element [data-testid=" + id + "] displayed").atMost(Duration.ofSeconds(30))
        .pollInterval(Duration.ofMillis(100)).ignoreExceptions()
        .until(() -> {
          List<WebElement> all = driver.findElements(testId(id));
          assertThat(all).as("elements [data-testid=%s]", id).hasSizeLessThanOrEqualTo(1);
          found[0] = all.isEmpty() || !all.get(0).isDisplayed() ? null : all.get(0);
          return found[0] != null;
        });
    return found[0];
  }

  /** Whether an element with {@code data-testid=id} is in the page and displayed now. */
  boolean displayed(String id) {
    return allByTestId(id).stream().anyMatch(WebElement::isDisplayed);
  }

  /** Every element with {@code data-testid=id} in the page now, displayed or not. */
  List<WebElement> allByTestId(String id) {
    return driver.findElements(testId(id));
  }

  /** The element's text as the DOM holds it (textContent, trimmed), whether or not it is on screen. */
  String text(String id) {
    List<WebElement> all = allByTestId(id);
    return all.isEmpty() ? null : String.valueOf(all.get(0).getDomProperty("textContent")).strip();
  }

  /**
   * A request from inside the page (same origin, the session cookie attached by the browser):
   * returns {status, body}. {@code headers} may be empty; {@code body} may be null.
   */
  Map<String, Object> fetch(String method, String path, Map<String, String> headers, String body) {
    Object result = driver.executeAsyncScript("const [method, path, headers, body, done] = arguments;"
        + "fetch(path, {method, headers, body: body === null ? undefined : body, credentials: 'same-origin'})"
        + ".then(r => r.text().then(t => done({status: r.status, body: t})),"
        + " e => done({status: -1, body: String(e)}));", method, path, headers, body);
    @SuppressWarnings("unchecked")
    Map<String, Object> map = new LinkedHashMap<>((Map<String, Object>) result);
    map.put("status", ((Number) map.get("status")).intValue());
    return map;
  }

  /**
   * Runs axe-core on the page as it is now and fails listing every serious or critical violation
   * with its rule id, what it is about, and the CSS selectors of the elements concerned.
   */
  void assertAccessible(String page) {
    Object present = driver.executeScript("return typeof window.axe !== 'undefined';");
    if (!Boolean.TRUE.equals(present)) {
      // injected through WebDriver, which the page's CSP (script-src 'self') does not govern
      driver.executeScript(axeSource());
    }
    Object result = driver.executeAsyncScript("const done = arguments[arguments.length - 1];"
        + "axe.run(document, {resultTypes: ['violations']}).then(r => done(r.violations.map(v => ({id: v.id,"
        + " impact: v.impact, help: v.help, targets: v.nodes.map(n => n.target.join(' '))}))),"
        + " e => done([{id: 'axe-error', impact: 'critical', help: String(e), targets: []}]));");
    List<String> serious = new ArrayList<>();
    for (Object o : (List<?>) result) {
      Map<?, ?> v = (Map<?, ?>) o;
      if ("serious".equals(v.get("impact")) || "critical".equals(v.get("impact"))) {
        serious.add(v.get("id") + " (" + v.get("impact") + "): " + v.get("help") + " at " + v.get("targets"));
      }
    }
    assertThat(serious).as("serious or critical axe-core violations on %s", page).isEmpty();
  }

  /** The axe-core script; fails saying how to get it when it is missing from the test classpath. */
  static String axeSource() {
    try (InputStream in = Browser.class.getClassLoader().getResourceAsStream(AXE_RESOURCE)) {
      if (in == null) {
        throw new AssertionError("axe-core is not on the test classpath: the resource '" + AXE_RESOURCE + "' comes"
            + " from the test dependency com.deque.html.axe-core:selenium in e2e/pom.xml; run the tests with Maven"
            + " (mvn -pl e2e verify), which puts it there");
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * Saves the page as it is now to {@code SCREENSHOTS/NAME.png} (a 1280 x 900 viewport) and
   * {@code SCREENSHOTS/NAME-phone.png} (390 x 844, a phone's viewport with mobile emulation).
   */
  void screenshots(String name) {
    try {
      Files.createDirectories(SCREENSHOTS);
      Files.write(SCREENSHOTS.resolve(name + ".png"), capture(DESKTOP_WIDTH, DESKTOP_HEIGHT, false));
      Files.write(SCREENSHOTS.resolve(name + "-phone.png"), capture(PHONE_WIDTH, PHONE_HEIGHT, true));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The viewport at exactly {@code width x height} (the headless window's own viewport is smaller than its size). */
  private byte[] capture(int width, int height, boolean mobile) {
    driver.executeCdpCommand("Emulation.setDeviceMetricsOverride", Map.of("width", width, "height", height,
        "deviceScaleFactor", 1, "mobile", mobile));
    try {
      Map<String, Object> shot = driver.executeCdpCommand("Page.captureScreenshot", Map.of("format", "png"));
      return Base64.getDecoder().decode((String) shot.get("data"));
    } finally {
      driver.executeCdpCommand("Emulation.clearDeviceMetricsOverride", Map.of());
    }
  }

  /**
   * Every line the page logged so far (console messages, failed loads, CSP refusals), also appended
   * to the console log file.
   */
  List<String> consoleLog() {
    List<String> fresh = new ArrayList<>();
    for (LogEntry entry : driver.manage().logs().get(LogType.BROWSER)) {
      fresh.add(entry.getLevel() + " " + entry.getMessage());
    }
    if (!fresh.isEmpty()) {
      try {
        Files.write(consoleLog, fresh, StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      consoleLines.addAll(fresh);
    }
    return List.copyOf(consoleLines);
  }

  /** Fails on any Content-Security-Policy refusal or uncaught script error the page has logged. */
  void assertNoScriptErrors() {
    assertThat(consoleLog()).as("CSP violations and uncaught errors in the browser's console")
        .noneMatch(line -> line.contains("Content Security Policy") || line.contains("Uncaught"));
  }

  @Override
  public void close() {
    driver.quit();
  }
}
