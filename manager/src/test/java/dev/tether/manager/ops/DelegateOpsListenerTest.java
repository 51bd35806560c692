package dev.tether.manager.ops;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.tether.common.ops.OpsMetrics;
import dev.tether.common.ops.OpsServer;
import dev.tether.delegate.agent.DelegateAgent;
import dev.tether.delegate.agent.Outcome;
import dev.tether.delegate.config.ConfigLoader;
import dev.tether.delegate.config.DelegateConfig;
import dev.tether.delegate.connect.Channels;
import dev.tether.delegate.ops.DelegateMetrics;
import dev.tether.manager.heartbeat.HeartbeatSettings;
import dev.tether.manager.server.ManagerSettings;
import dev.tether.manager.testing.ManagerFixture;
import dev.tether.manager.token.CreatedToken;
import io.grpc.InsecureServerCredentials;
import io.grpc.Server;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Tether issue 14: the delegate's ops listener, scraped the way Prometheus and the kubelet do,
 * while the real agent connects over loopback to the real manager (the production wiring, on a
 * plaintext Netty server), heartbeats, has its token revoked and gets a new one in its token file.
 */
class DelegateOpsListenerTest {

  private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  private static final Duration WAIT = Duration.ofSeconds(30);

  @TempDir Path dataDir;
  @TempDir Path secrets;
  private ManagerFixture fixture;
  private Server server;
  private String accountId;
  private Path tokenFile;
  private final DelegateMetrics metrics = new DelegateMetrics(OpsMetrics.registry());
  private OpsServer ops;
  private DelegateAgent agent;
  private CompletableFuture<Outcome> outcome;

  @BeforeEach
  void start() throws Exception {
    // heartbeats every second, so that a few go by in a moment; the manager cuts a delegate only
    // after 20 silent intervals, so that a pause of a loaded machine cannot cut the agent mid-test
    fixture = new ManagerFixture(dataDir, ManagerSettings.defaults()
        .withHeartbeat(new HeartbeatSettings(Duration.ofSeconds(1), 20, Duration.ofMillis(100))));
    accountId = fixture.account("acme").account().id();
    server = fixture.manager().addServicesTo(NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0),
        InsecureServerCredentials.create())).build().start();
    tokenFile = secrets.resolve("DELEGATE_TOKEN");
  }

  @AfterEach
  void stop() throws Exception {
    if (agent != null) {
      agent.stop();
      outcome.get(20, TimeUnit.SECONDS);
    }
    if (ops != null) {
      ops.close();
    }
    server.shutdownNow();
    server.awaitTermination(10, TimeUnit.SECONDS);
    fixture.close();
  }

  /** The delegate as a Kubernetes install configures it: a token file, and the ops listener (here on loopback). */
  private InetSocketAddress startDelegate() throws IOException {
    DelegateConfig config = ConfigLoader.load(Map.of("ACCOUNT_ID", accountId,
        "DELEGATE_TOKEN_FILE", tokenFile.toString(),
        "MANAGER_HOST_AND_PORT", "http://127.0.0.1:" + ((InetSocketAddress) server.getListenSockets().get(0)).getPort(),
        "DELEGATE_NAME", "ops-probe-builder", "DELEGATE_TYPE", "KUBERNETES",
        "DELEGATE_OPS_LISTEN", "127.0.0.1:0"), null);
    ops = metrics.serve(config.opsListen());
    agent = new DelegateAgent(config, "test", e -> Channels.open(e, null), metrics);
    return ops.address();
  }

  private void run() {
    outcome = CompletableFuture.supplyAsync(agent::run);
  }

  private void writeToken(CreatedToken token) throws IOException {
    Path next = Files.writeString(secrets.resolve("next"), token.value().reveal() + "\n");
    Files.move(next, tokenFile, java.nio.file.StandardCopyOption.ATOMIC_MOVE, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
  }

  @Test
  void scrapedBeforeAndAfterConnecting_countersMove_readyzFollowsRegistrationAndRevocation() throws Exception {
    CreatedToken first = fixture.token(accountId, "ops-probe-first");
    writeToken(first);
    InetSocketAddress at = startDelegate();

    // before the agent runs: up, not ready, nothing counted
    assertThat(get(at, "/healthz")).isEqualTo(new Answer(200, "ok\n"));
    assertThat(get(at, "/readyz")).isEqualTo(new Answer(503, "not ready: not registered: starting\n"));
    Map<String, Double> before = scrape(at);
    assertThat(value(before, "tether_delegate_connected")).isZero();
    assertThat(value(before, "tether_delegate_heartbeats_sent_total")).isZero();
    assertThat(value(before, "tether_delegate_heartbeat_acks_total")).isZero();
    assertThat(value(before, "tether_delegate_heartbeat_round_trip_seconds_count")).isZero();
    assertThat(value(before, "tether_delegate_handshakes_total{outcome=\"accepted\"}")).isZero();
    assertThat(value(before, "tether_delegate_reconnects_total")).isZero();

    run();
    await().atMost(WAIT).until(() -> value(scrape(at), "tether_delegate_heartbeat_acks_total") >= 3);

    assertThat(get(at, "/readyz")).isEqualTo(new Answer(200, "ready\n"));
    Map<String, Double> connected = scrape(at);
    assertThat(value(connected, "tether_delegate_connected")).isEqualTo(1);
    assertThat(value(connected, "tether_delegate_handshakes_total{outcome=\"accepted\"}")).isEqualTo(1);
    assertThat(value(connected, "tether_delegate_handshakes_total{outcome=\"refused\"}")).isZero();
    assertThat(value(connected, "tether_delegate_heartbeats_sent_total")).isGreaterThanOrEqualTo(3);
    assertThat(value(connected, "tether_delegate_heartbeat_round_trip_seconds_count")).isGreaterThanOrEqualTo(3);
    assertThat(value(connected, "tether_delegate_heartbeat_round_trip_seconds_sum")).isPositive();
    assertThat(value(connected, "tether_delegate_heartbeat_round_trip_seconds_bucket{le=\"+Inf\"}"))
        .isEqualTo(value(connected, "tether_delegate_heartbeat_round_trip_seconds_count"));
    assertThat(value(connected, "tether_delegate_reconnects_total")).isZero();

    fixture.manager().tokens().revoke(accountId, "ops-probe-first", "test");

    String revoked = "not ready: not registered: delegate token " + first.record().publicId() + " was revoked; waiting"
        + " for DELEGATE_TOKEN_FILE '" + tokenFile + "' to hold a new token\n";
    await().atMost(WAIT).untilAsserted(() -> assertThat(get(at, "/readyz")).isEqualTo(new Answer(503, revoked)));
    assertThat(get(at, "/healthz")).as("waiting for a token is alive: liveness must not restart it")
        .isEqualTo(new Answer(200, "ok\n"));
    assertThat(value(scrape(at), "tether_delegate_connected")).isZero();

    CreatedToken second = fixture.token(accountId, "ops-probe-second");
    writeToken(second);

    await().atMost(WAIT).untilAsserted(() -> {
      Map<String, Double> back = scrape(at);
      assertThat(value(back, "tether_delegate_handshakes_total{outcome=\"accepted\"}")).isEqualTo(2);
      assertThat(value(back, "tether_delegate_reconnects_total")).isEqualTo(1);
      assertThat(value(back, "tether_delegate_connected")).isEqualTo(1);
      assertThat(get(at, "/readyz")).isEqualTo(new Answer(200, "ready\n"));
    });

    // Prometheus conventions for the delegate's own families; no token value, token name or delegate name
    String exposition = get(at, "/metrics").body();
    promtoolCheck(exposition.lines().filter(l -> l.startsWith("tether_") || l.startsWith("# HELP tether_")
        || l.startsWith("# TYPE tether_")).collect(Collectors.joining("\n", "", "\n")));
    for (CreatedToken token : List.of(first, second)) {
      assertThat(exposition.contains(token.value().reveal())).as("/metrics holds token %s", token.record().publicId())
          .isFalse();
      assertThat(exposition).doesNotContain(token.record().name()).doesNotContain(token.record().publicId());
    }
    assertThat(exposition).doesNotContain("ops-probe-builder").doesNotContain(accountId);
  }

  @Test
  void startedWithARevokedTokenInItsFile_readyzSaysTheHandshakeWasRefused() throws Exception {
    CreatedToken old = fixture.token(accountId, "ops-probe-old");
    fixture.manager().tokens().revoke(accountId, "ops-probe-old", "test");
    writeToken(old);
    InetSocketAddress at = startDelegate();

    run();

    String refused = "not ready: not registered: the manager rejected token " + old.record().publicId() + ", which it"
        + " knows: the token was revoked or has expired ('tether-manager token list --account " + accountId + "' shows"
        + " which); waiting for DELEGATE_TOKEN_FILE '" + tokenFile + "' to hold a new token\n";
    await().atMost(WAIT).untilAsserted(() -> assertThat(get(at, "/readyz")).isEqualTo(new Answer(503, refused)));
    Map<String, Double> samples = scrape(at);
    assertThat(value(samples, "tether_delegate_handshakes_total{outcome=\"refused\"}")).isEqualTo(1);
    assertThat(value(samples, "tether_delegate_handshakes_total{outcome=\"accepted\"}")).isZero();
    assertThat(value(samples, "tether_delegate_connected")).isZero();
    assertThat(refused.contains(old.value().reveal())).isFalse();
  }

  private record Answer(int status, String body) {
    @Override
    public String toString() {
      return status + " " + body;
    }
  }

  private static Answer get(InetSocketAddress at, String path) throws IOException, InterruptedException {
    HttpResponse<String> response = HTTP.send(HttpRequest.newBuilder(URI.create("http://" + OpsServer.describe(at)
        + path)).timeout(Duration.ofSeconds(10)).GET().build(), HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
    return new Answer(response.statusCode(), response.body());
  }

  /** The samples of the text exposition, by name and labels as written. */
  private static Map<String, Double> scrape(InetSocketAddress at) throws IOException, InterruptedException {
    Answer answer = get(at, "/metrics");
    assertThat(answer.status()).isEqualTo(200);
    Map<String, Double> out = new LinkedHashMap<>();
    for (String line : answer.body().split("\n")) {
      if (!line.isBlank() && !line.startsWith("#")) {
        int space = line.lastIndexOf(' ');
        out.put(line.substring(0, space), Double.parseDouble(line.substring(space + 1)));
      }
    }
    return out;
  }

  private static double value(Map<String, Double> samples, String series) {
    assertThat(samples).as("series %s", series).containsKey(series);
    return samples.get(series);
  }

  /** {@code promtool check metrics} must find nothing (CI installs promtool and sets TETHER_REQUIRE_LINTERS=1). */
  private static void promtoolCheck(String exposition) throws IOException, InterruptedException {
    boolean installed = List.of(System.getenv().getOrDefault("PATH", "").split(":")).stream()
        .anyMatch(dir -> Files.isExecutable(Path.of(dir, "promtool")));
    if (!installed) {
      assertThat("1".equals(System.getenv("TETHER_REQUIRE_LINTERS")))
          .as("promtool is required (TETHER_REQUIRE_LINTERS=1) but not installed").isFalse();
      Assumptions.abort("promtool is not installed; install it (apt-get install prometheus) to run this check");
    }
    Process process = new ProcessBuilder("promtool", "check", "metrics").redirectErrorStream(true).start();
    process.getOutputStream().write(exposition.getBytes(StandardCharsets.UTF_8));
    process.getOutputStream().close();
    String said = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(process.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(process.exitValue()).as("promtool check metrics said:\n" + said).isZero();
    assertThat(said).as("promtool check metrics").isBlank();
  }
}
