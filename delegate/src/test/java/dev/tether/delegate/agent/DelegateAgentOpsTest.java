package dev.tether.delegate.agent;

import static dev.tether.delegate.testing.Scrape.value;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.tether.common.ops.OpsMetrics;
import dev.tether.common.ops.OpsServer;
import dev.tether.common.testing.TokenLedger;
import dev.tether.common.token.DelegateToken;
import dev.tether.delegate.config.DelegateConfig;
import dev.tether.delegate.config.ManagerEndpoint;
import dev.tether.delegate.config.OpsListen;
import dev.tether.delegate.config.TokenSource;
import dev.tether.delegate.connect.Backoff;
import dev.tether.delegate.connect.Channels;
import dev.tether.delegate.ops.DelegateMetrics;
import dev.tether.delegate.testing.FakeManager;
import dev.tether.delegate.testing.Scrape;
import io.grpc.Metadata;
import io.grpc.Status;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The real agent with its ops listener on loopback, against a fake manager or a closed port:
 * /readyz follows the stream as the probe file {@code ready} does, and says why when it is 503.
 * (Against the real manager, with heartbeats and a revocation: the manager module's
 * DelegateOpsListenerTest.)
 */
class DelegateAgentOpsTest {

  private static final String ACCOUNT = "abcdefghijklmnop";
  private final DelegateToken token = TokenLedger.record(DelegateToken.generate());
  private final DelegateMetrics metrics = new DelegateMetrics(OpsMetrics.registry());
  @TempDir Path health;
  private OpsServer ops;

  @AfterEach
  void closeListener() {
    if (ops != null) {
      ops.close();
    }
  }

  private InetSocketAddress listen() throws Exception {
    ops = metrics.serve(new OpsListen(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), "DELEGATE_OPS_LISTEN"));
    return ops.address();
  }

  private DelegateAgent agent(ManagerEndpoint endpoint) {
    DelegateConfig config = new DelegateConfig(ACCOUNT, new TokenSource.Fixed("DELEGATE_TOKEN", token),
        List.of(endpoint), "builder-1", "SHELL_SCRIPT", List.of(), null, health, List.of());
    return new DelegateAgent(config, "test", e -> Channels.open(e, null),
        new Backoff(Duration.ofMillis(1), Duration.ofMillis(20)), Duration.ofMillis(200), metrics);
  }

  private static CompletableFuture<Outcome> run(DelegateAgent agent) {
    CompletableFuture<Outcome> outcome = new CompletableFuture<>();
    Thread thread = new Thread(() -> outcome.complete(agent.run()), "agent-under-test");
    thread.setDaemon(true);
    thread.start();
    return outcome;
  }

  private Map<String, Double> scrape(InetSocketAddress at) throws Exception {
    Scrape.Answer answer = Scrape.get(at, "/metrics");
    assertThat(answer.status()).isEqualTo(200);
    return Scrape.samples(answer.body());
  }

  @Test
  void managerDown_readyzSays503WithTheCause_healthzSays200() throws Exception {
    InetSocketAddress at = listen();
    int port;
    try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      port = socket.getLocalPort();
    }
    DelegateAgent agent = agent(new ManagerEndpoint("127.0.0.1", port, false));
    CompletableFuture<Outcome> outcome = run(agent);

    await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(Scrape.get(at, "/readyz")).isEqualTo(
        new Scrape.Answer(503, "not ready: not registered: connection refused at 127.0.0.1:" + port + " (is the"
            + " manager running, and is MANAGER_HOST_AND_PORT right?)\n")));
    assertThat(Scrape.get(at, "/healthz")).isEqualTo(new Scrape.Answer(200, "ok\n"));
    Map<String, Double> samples = scrape(at);
    assertThat(value(samples, "tether_delegate_connected")).isZero();
    assertThat(value(samples, "tether_delegate_handshakes_total{outcome=\"unavailable\"}")).isPositive();
    assertThat(value(samples, "tether_delegate_handshakes_total{outcome=\"accepted\"}")).isZero();

    agent.stop();
    assertThat(outcome.get(20, TimeUnit.SECONDS).exitCode()).isEqualTo(Outcome.STOPPED);
  }

  @Test
  void streamLostAndRegainedThenStopped_readyzFollowsTheReadyFile_andTheReconnectIsCounted() throws Exception {
    InetSocketAddress at = listen();
    try (FakeManager manager = FakeManager.knowing(token)) {
      DelegateAgent agent = agent(manager.endpoint());
      CompletableFuture<Outcome> outcome = run(agent);
      manager.registered().get(20, TimeUnit.SECONDS);

      await().atMost(Duration.ofSeconds(20)).until(() -> Scrape.get(at, "/readyz").status() == 200);
      assertThat(health.resolve("ready")).exists();
      Map<String, Double> connected = scrape(at);
      assertThat(value(connected, "tether_delegate_connected")).isEqualTo(1);
      assertThat(value(connected, "tether_delegate_handshakes_total{outcome=\"accepted\"}")).isEqualTo(1);
      assertThat(value(connected, "tether_delegate_reconnects_total")).isZero();

      manager.closeStream(Status.UNAVAILABLE.withDescription("manager shutting down"), new Metadata());

      // back on a new stream: one reconnect, a second accepted handshake, ready again
      await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> {
        Map<String, Double> samples = scrape(at);
        assertThat(value(samples, "tether_delegate_reconnects_total")).isEqualTo(1);
        assertThat(value(samples, "tether_delegate_handshakes_total{outcome=\"accepted\"}")).isEqualTo(2);
        assertThat(value(samples, "tether_delegate_connected")).isEqualTo(1);
        assertThat(Scrape.get(at, "/readyz").status()).isEqualTo(200);
        assertThat(health.resolve("ready")).exists();
      });
      assertThat(health.resolve("alive")).exists();

      agent.stop();
      assertThat(outcome.get(20, TimeUnit.SECONDS).exitCode()).isEqualTo(Outcome.STOPPED);
      assertThat(Scrape.get(at, "/readyz")).isEqualTo(new Scrape.Answer(503, "not ready: not registered: the delegate"
          + " is stopping\n"));
      assertThat(health.resolve("ready")).doesNotExist();
      assertThat(value(scrape(at), "tether_delegate_connected")).isZero();
    }
  }

  @Test
  void managerThatCannotProveTheToken_isCountedAsUntrusted() throws Exception {
    InetSocketAddress at = listen();
    try (FakeManager manager = FakeManager.decoy()) {
      Outcome outcome = run(agent(manager.endpoint())).get(20, TimeUnit.SECONDS);

      assertThat(outcome.exitCode()).isEqualTo(Outcome.FATAL);
      Map<String, Double> samples = scrape(at);
      assertThat(value(samples, "tether_delegate_handshakes_total{outcome=\"untrusted\"}")).isEqualTo(1);
      assertThat(value(samples, "tether_delegate_handshakes_total{outcome=\"accepted\"}")).isZero();
      assertThat(Files.exists(health.resolve("ready"))).isFalse();
    }
  }
}
