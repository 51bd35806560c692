package dev.tether.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The real manager jar's {@code /metrics}, scraped before and after a handshake, heartbeats and a
 * revoke: {@code promtool check metrics} finds no problem in any scrape, and the counters move by
 * exactly what happened.
 */
class MetricsEndToEndTest {

  private static final Duration START = Duration.ofSeconds(60);
  private static final Path PROMTOOL = Path.of("/usr/bin/promtool");
  @TempDir static Path work;
  private static Tether tether;
  private final HttpClient http = HttpClient.newHttpClient();

  @BeforeAll
  static void startManager() {
    // 2 s: two heartbeats come soon, and the 6 s cut outlives a pause of a loaded machine (a cut
    // delegate would come back with a second handshake, and the counts below would be off by it)
    tether = new Tether(work.resolve("data"), "MetricsEndToEndTest", "--heartbeat-interval", "2s").start();
  }

  @AfterAll
  static void stop() {
    tether.stopManager();
    tether.close();
  }

  @Test
  void aHandshakeHeartbeatsAndARevoke_moveTheCountersByExactlyThat() throws Exception {
    String account = tether.account("metrics");
    String token = tether.token(account, "ci");
    Map<String, Double> before = scrape();
    assertThat(before).containsEntry("tether_replicas_live", 1.0);
    assertThat(value(before, "tether_handshakes_total{outcome=\"accepted\"}")).isZero();

    Proc delegate = tether.delegate("metrics-1", tether.env(account, token));
    delegate.awaitLine("connected to", START);
    await().atMost(START).until(() -> value(scrape(), "tether_heartbeats_total") >= 2);

    Map<String, Double> connected = scrape();
    assertThat(value(connected, "tether_handshakes_total{outcome=\"accepted\"}")).isEqualTo(1);
    assertThat(value(connected, "tether_handshake_duration_seconds_count")).isEqualTo(1);
    assertThat(value(connected, "tether_delegates_connected{account=\"" + account + "\"}")).isEqualTo(1);
    assertThat(value(connected, "tether_heartbeat_ack_seconds_count"))
        .isEqualTo(value(connected, "tether_heartbeats_total"));
    assertThat(value(connected, "tether_revocations_total{cause=\"revoke\"}")).isZero();
    assertThat(value(connected, "tether_admin_calls_total{code=\"OK\",method=\"TokenAdmin/CreateToken\"}"))
        .isEqualTo(1);

    tether.cli("token", "revoke", "--account", account, "--name", "ci").ok();
    assertThat(delegate.awaitExit(START)).as("the delegate stops: its token is revoked").isEqualTo(78);

    Map<String, Double> revoked = scrape();
    assertThat(value(revoked, "tether_revocations_total{cause=\"revoke\"}")).isEqualTo(1);
    assertThat(value(revoked, "tether_streams_closed_by_revocation_total")).isEqualTo(1);
    for (String phase : new String[] {"fence", "commit", "close", "total"}) {
      assertThat(value(revoked, "tether_revocation_duration_seconds_count{phase=\"" + phase + "\"}")).as(phase)
          .isEqualTo(1);
    }
    // the gauge goes down when gRPC reports the cut call ended, which may come after the delegate exits
    await().atMost(START).until(() -> value(scrape(), "tether_delegates_connected{account=\"" + account + "\"}") == 0);
    assertThat(value(revoked, "tether_admin_calls_total{code=\"OK\",method=\"TokenAdmin/RevokeToken\"}"))
        .isEqualTo(1);
    assertThat(value(revoked, "tether_store_errors_total")).isZero();
    assertThat(value(revoked, "process_files_open_files")).isPositive();
    assertThat(revoked.keySet()).anyMatch(k -> k.startsWith("grpc_server_processing_duration_seconds_count{"));
  }

  @Test
  void aCallWithAWrongAdminKey_isCountedAsAnAuthFailure() throws Exception {
    double before = value(scrape(), "tether_admin_auth_failures_total");
    Path wrongKey = Files.writeString(work.resolve("wrong.key"),
        dev.tether.manager.admin.AdminSecret.generate().reveal() + "\n");
    Files.setPosixFilePermissions(wrongKey, java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
    Tether.Result refused = tether.rawCli(null, "account", "list", "--manager", "127.0.0.1:" + tether.adminPort(),
        "--admin-key-file", wrongKey.toString(), "--data-dir", tether.dataDir.toString());
    assertThat(refused.exit()).isNotZero();
    Map<String, Double> after = scrape();
    assertThat(value(after, "tether_admin_auth_failures_total")).isEqualTo(before + 1);
    assertThat(value(after, "tether_admin_calls_total{code=\"UNAUTHENTICATED\",method=\"AccountAdmin/ListAccounts\"}"))
        .isEqualTo(1);
  }

  @Test
  void healthAndReadiness_answerOnTheOpsListener() throws Exception {
    assertThat(get("/healthz").statusCode()).isEqualTo(200);
    HttpResponse<String> ready = get("/readyz");
    assertThat(ready.statusCode()).isEqualTo(200);
    assertThat(ready.body()).isEqualTo("ready\n");
  }

  private HttpResponse<String> get(String path) throws IOException, InterruptedException {
    return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + tether.opsPort() + path)).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private static double value(Map<String, Double> scrape, String series) {
    return scrape.getOrDefault(series, 0.0);
  }

  /** Scrapes /metrics, has promtool check it, and returns every sample by its series (labels sorted). */
  private Map<String, Double> scrape() throws Exception {
    HttpResponse<String> response = get("/metrics");
    assertThat(response.statusCode()).isEqualTo(200);
    String text = response.body();
    promtoolCheck(text);
    Map<String, Double> samples = new HashMap<>();
    Pattern sample = Pattern.compile("^([a-zA-Z_:][a-zA-Z0-9_:]*)(\\{(.*)})? (\\S+)$");
    for (String line : text.split("\n")) {
      if (line.startsWith("#") || line.isBlank()) {
        continue;
      }
      Matcher m = sample.matcher(line);
      assertThat(m.matches()).as("a sample line: %s", line).isTrue();
      String labels = m.group(3) == null ? "" : sortedLabels(m.group(3));
      samples.put(m.group(1) + (labels.isEmpty() ? "" : "{" + labels + "}"), Double.parseDouble(m.group(4)));
    }
    return samples;
  }

  private static String sortedLabels(String labels) {
    return Pattern.compile(",(?=[a-zA-Z_]+=\")").splitAsStream(labels).sorted()
        .reduce((a, b) -> a + "," + b).orElse("");
  }

  /** {@code promtool check metrics} on the scrape: no problem reported (skipped where promtool is missing). */
  private static void promtoolCheck(String text) throws Exception {
    if (!Files.isExecutable(PROMTOOL)) {
      Assumptions.assumeFalse("1".equals(System.getenv("TETHER_REQUIRE_LINTERS")) && fail(),
          "promtool not installed");
      return;
    }
    Process p = new ProcessBuilder(PROMTOOL.toString(), "check", "metrics").redirectErrorStream(true).start();
    p.getOutputStream().write(text.getBytes(StandardCharsets.UTF_8));
    p.getOutputStream().close();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(out).as("promtool check metrics").isEmpty();
    assertThat(p.exitValue()).isZero();
  }

  private static boolean fail() {
    throw new AssertionError("promtool is required (TETHER_REQUIRE_LINTERS=1) but /usr/bin/promtool is missing");
  }
}
