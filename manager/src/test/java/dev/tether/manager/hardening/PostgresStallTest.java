package dev.tether.manager.hardening;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tether.manager.store.JdbcStore;
import dev.tether.manager.store.StoreException;
import dev.tether.manager.testing.Postgres;
import java.net.URI;
import java.sql.Connection;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * A PostgreSQL database whose network path goes silent mid-statement (packets dropped, no reset):
 * the statement fails after the driver's socket timeout instead of holding its thread (a revoke
 * holding its token's fence) for as long as TCP retries, about 15 minutes.
 */
class PostgresStallTest {

  @Test
  void aStatementOnASilentConnection_failsAfterTheSocketTimeout() throws Exception {
    String direct = Postgres.newDatabase();
    try (FaultProxy proxy = new FaultProxy(URI.create(direct.substring("jdbc:".length())).getPort())) {
      // 2 s instead of the default minute, so that the test does not wait it out: the URL's value wins
      String url = direct.replaceFirst(":[0-9]+/", ":" + proxy.port() + "/") + "&socketTimeout=2";
      try (JdbcStore store = JdbcStore.open(url, null, null)) {
        assertThat(store.findToken("nosuchaccount", "default")).isEmpty();
        proxy.stallOpenConnections();

        CompletableFuture<Object> read = CompletableFuture.supplyAsync(() -> store.findToken("nosuchaccount",
            "default"));
        assertThatThrownBy(() -> read.get(60, TimeUnit.SECONDS))
            .as("the read fails instead of waiting for TCP to give up")
            .isInstanceOf(ExecutionException.class).hasCauseInstanceOf(StoreException.class);
      }
    }
  }

  @Test
  void theDefaultSocketTimeout_isAMinute_andTheUrlsOwnWins() throws Exception {
    String url = Postgres.newDatabase();
    try (JdbcStore store = JdbcStore.open(url, null, null); Connection c = store.dataSource().getConnection()) {
      assertThat(c.getNetworkTimeout()).isEqualTo((int) JdbcStore.POSTGRES_SOCKET_TIMEOUT.toMillis());
    }
    try (JdbcStore store = JdbcStore.open(url + "&socketTimeout=7", null, null);
        Connection c = store.dataSource().getConnection()) {
      assertThat(c.getNetworkTimeout()).isEqualTo(7_000);
    }
  }
}
