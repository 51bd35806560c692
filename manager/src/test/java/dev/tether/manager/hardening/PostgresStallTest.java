package dev.tether.manager.hardening;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.tether.manager.store.JdbcStore;
import dev.tether.manager.store.RevocationFeed;
import dev.tether.manager.store.StoreException;
import dev.tether.manager.testing.Postgres;
import java.net.URI;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * A PostgreSQL database whose network path goes silent mid-statement (packets dropped, no reset):
 * the statement fails after the driver's socket timeout instead of holding its thread (a revoke
 * holding its token's fence) for as long as TCP retries, about 15 minutes; and the revocation
 * feed, which only waits for notifications, notices and reconnects.
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
  void theRevocationFeed_whoseConnectionGoesSilent_reconnects_andDeliversAgain() throws Exception {
    String direct = Postgres.newDatabase();
    try (FaultProxy proxy = new FaultProxy(URI.create(direct.substring("jdbc:".length())).getPort())) {
      String url = direct.replaceFirst(":[0-9]+/", ":" + proxy.port() + "/") + "&socketTimeout=2";
      try (JdbcStore store = JdbcStore.open(url, null, null); JdbcStore other = JdbcStore.open(direct, null, null);
          RevocationFeed feed = store.revocationFeed("rep_test")) {
        AtomicInteger connected = new AtomicInteger();
        Set<String> adminsRevoked = ConcurrentHashMap.newKeySet();
        feed.start(new RevocationFeed.Listener() {
          @Override
          public void revoked(long tokenRow) { }

          @Override
          public void acked(long tokenRow, String replicaId, int streamsClosed) { }

          @Override
          public void adminRevoked(String adminId) {
            adminsRevoked.add(adminId);
          }

          @Override
          public void resumed() {
            connected.incrementAndGet();
          }
        });
        await("the feed listening").atMost(Duration.ofSeconds(30)).until(() -> connected.get() == 1);

        // a failover behind the same address, or a path that drops packets: nothing comes, no reset
        proxy.stallOpenConnections();
        await("the feed reconnected after its check got no answer").atMost(Duration.ofSeconds(60))
            .until(() -> connected.get() == 2);
        notify(other, "adm_after_the_stall");
        await("a notification delivered on the new connection").atMost(Duration.ofSeconds(30))
            .until(() -> adminsRevoked.contains("adm_after_the_stall"));
      }
    }
  }

  /** Announces an admin's revocation as a replica's commit does. */
  private static void notify(JdbcStore store, String adminId) throws Exception {
    try (Connection c = store.dataSource().getConnection(); Statement s = c.createStatement()) {
      s.execute("NOTIFY " + RevocationFeed.ADMIN_REVOKED_CHANNEL + ", '" + adminId + "'");
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
