package dev.tether.manager.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code /readyz} says whether the manager can serve: 503 with the reason while its real
 * PostgreSQL is down, 200 again once it is back, while {@code /healthz} stays 200 throughout.
 */
class ReadinessTest {

  @TempDir Path root;
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  private HttpResponse<String> get(ManagerServer server, String path) throws Exception {
    InetSocketAddress ops = server.opsAddress();
    return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + ops.getPort() + path))
        .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void readyz_is503DuringADatabaseOutage_andBackTo200After() throws Exception {
    Path pgData = root.resolve("pg");
    EmbeddedPostgres pg = EmbeddedPostgres.builder().setDataDirectory(pgData).setCleanDataDirectory(false).start();
    int pgPort = pg.getPort();
    try (ManagerServer server = ManagerServer.start(new ManagerServer.Options(new InetSocketAddress("127.0.0.1", 0),
        null, root.resolve("data"), pg.getJdbcUrl("postgres", "postgres"), "postgres", "postgres", true, null, null,
        List.of(), ManagerSettings.defaults(), new InetSocketAddress("127.0.0.1", 0)))) {
      HttpResponse<String> ready = get(server, "/readyz");
      assertThat(ready.statusCode()).isEqualTo(200);
      assertThat(ready.body()).isEqualTo("ready\n");

      pg.close();
      await().atMost(Duration.ofSeconds(60)).until(() -> get(server, "/readyz").statusCode() == 503);
      HttpResponse<String> down = get(server, "/readyz");
      assertThat(down.body()).startsWith("not ready: database").endsWith("\n");
      assertThat(down.body().strip()).doesNotContain("\n");
      assertThat(get(server, "/healthz").statusCode()).isEqualTo(200);

      pg = EmbeddedPostgres.builder().setDataDirectory(pgData).setCleanDataDirectory(false).setPort(pgPort).start();
      await().atMost(Duration.ofSeconds(60)).until(() -> get(server, "/readyz").statusCode() == 200);
      assertThat(server.manager().metrics().registry().find("tether.store.errors").counter().count())
          .as("the failed checks are counted as store errors").isPositive();
    } finally {
      pg.close();
    }
  }
}
