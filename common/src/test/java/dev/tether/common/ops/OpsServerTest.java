package dev.tether.common.ops;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class OpsServerTest {

  private final HttpClient http = HttpClient.newHttpClient();
  private final AtomicReference<Optional<String>> readiness = new AtomicReference<>(Optional.empty());
  private PrometheusMeterRegistry registry;
  private OpsServer server;

  @BeforeEach
  void start() throws IOException {
    registry = OpsMetrics.withJvmAndProcess(OpsMetrics.registry());
    registry.counter("tether.test.events").increment(3);
    server = OpsServer.start(new InetSocketAddress("127.0.0.1", 0), registry, readiness::get, "--ops-listen");
  }

  @AfterEach
  void stop() {
    server.close();
    registry.close();
  }

  private HttpResponse<String> get(String path, String accept) throws Exception {
    HttpRequest.Builder request = HttpRequest.newBuilder(
        URI.create("http://" + OpsServer.describe(server.address()) + path));
    if (accept != null) {
      request.header("Accept", accept);
    }
    return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void metricsInThePrometheusTextFormatByDefault() throws Exception {
    HttpResponse<String> response = get("/metrics", null);
    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(response.headers().firstValue("Content-Type")).hasValueSatisfying(
        type -> assertThat(type).startsWith("text/plain; version=0.0.4"));
    assertThat(response.body()).contains("# TYPE tether_test_events_total counter")
        .contains("tether_test_events_total 3.0")
        .contains("process_files_max_files").contains("jvm_memory_used_bytes").doesNotContain("# EOF");
  }

  @Test
  void grpcTagsAreSnakeCaseLabels() throws Exception {
    registry.counter("grpc.server.requests.received", "methodType", "UNARY", "statusCode", "OK").increment();
    assertThat(get("/metrics", null).body()).contains("method_type=\"UNARY\"").contains("status_code=\"OK\"")
        .doesNotContain("methodType").doesNotContain("statusCode");
  }

  @Test
  void openMetricsWhenTheScraperAsksForIt() throws Exception {
    HttpResponse<String> response = get("/metrics",
        "application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5");
    assertThat(response.headers().firstValue("Content-Type")).hasValueSatisfying(
        type -> assertThat(type).startsWith("application/openmetrics-text"));
    assertThat(response.body()).contains("tether_test_events_total 3.0").endsWith("# EOF\n");
  }

  @Test
  void healthAndReadiness() throws Exception {
    assertThat(get("/healthz", null).statusCode()).isEqualTo(200);
    HttpResponse<String> ready = get("/readyz", null);
    assertThat(ready.statusCode()).isEqualTo(200);
    assertThat(ready.body()).isEqualTo("ready\n");

    readiness.set(Optional.of("database not answering: timeout"));
    HttpResponse<String> notReady = get("/readyz", null);
    assertThat(notReady.statusCode()).isEqualTo(503);
    assertThat(notReady.body()).isEqualTo("not ready: database not answering: timeout\n");
    assertThat(get("/healthz", null).statusCode()).isEqualTo(200);
  }

  @Test
  void onlyGetOnKnownPaths() throws Exception {
    HttpResponse<String> post = http.send(HttpRequest.newBuilder(
        URI.create("http://" + OpsServer.describe(server.address()) + "/metrics"))
        .POST(HttpRequest.BodyPublishers.ofString("x")).build(), HttpResponse.BodyHandlers.ofString());
    assertThat(post.statusCode()).isEqualTo(405);
    assertThat(post.headers().firstValue("Allow")).hasValue("GET, HEAD");
    HttpResponse<String> unknown = get("/admin", null);
    assertThat(unknown.statusCode()).isEqualTo(404);
    assertThat(unknown.body()).contains("/metrics, /healthz and /readyz");
  }

  @Test
  void clientsThatNeverFinishTheirRequest_doNotKeepTheProbesWaiting() throws Exception {
    // more idle half-requests than the server has threads: each is dropped after the request time
    java.util.List<java.net.Socket> idle = new java.util.ArrayList<>();
    try {
      for (int i = 0; i < OpsServer.THREADS + 4; i++) {
        java.net.Socket socket = new java.net.Socket("127.0.0.1", server.address().getPort());
        socket.getOutputStream().write("GET /healthz HTTP/1.1\r\nHost: x\r\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        socket.getOutputStream().flush();
        idle.add(socket);
      }
      HttpResponse<String> probe = http.send(HttpRequest.newBuilder(
          URI.create("http://" + OpsServer.describe(server.address()) + "/healthz"))
          .timeout(java.time.Duration.ofSeconds(60)).build(), HttpResponse.BodyHandlers.ofString());
      assertThat(probe.statusCode()).isEqualTo(200);
    } finally {
      for (java.net.Socket socket : idle) {
        socket.close();
      }
    }
  }

  @Test
  void aTakenPortIsNamedWithTheFlag() {
    assertThatThrownBy(() -> OpsServer.start(server.address(), registry, readiness::get, "--ops-listen"))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("cannot listen on 127.0.0.1:" + server.address().getPort())
        .hasMessageContaining("--ops-listen");
  }
}
