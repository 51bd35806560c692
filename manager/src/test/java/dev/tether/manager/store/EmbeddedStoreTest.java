package dev.tether.manager.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The embedded H2 store under many delegates at once. */
class EmbeddedStoreTest {

  private static final Actor TEST = Actor.named("test");

  private static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");

  @TempDir Path dir;

  /** Registrations arriving together share commits and each still gets its own, committed, row. */
  @Test
  void concurrentRegistrations_eachGetTheirOwnCommittedRow() throws Exception {
    Set<String> ids = ConcurrentHashMap.newKeySet();
    ExecutorService pool = Executors.newFixedThreadPool(32);
    try (JdbcStore store = (JdbcStore) JdbcStore.open(JdbcStore.h2Url(dir.resolve("connects")), null, null)) {
      store.createAccount(new Account("acc1", "acme", T0, "test"),
          new NewToken("acc1", "default", "tid_aaaaaaaaaaaaaaaa", "c2VhbGVk", T0, "test", null), TEST);
      List<Future<String>> done = new ArrayList<>();
      for (int i = 0; i < 500; i++) {
        // every delegate twice: the second registration of a name updates the first's row
        String name = "d" + (i % 250);
        done.add(pool.submit(() -> store.delegateConnected(delegate(name)).join()));
      }
      for (Future<String> f : done) {
        ids.add(f.get(60, TimeUnit.SECONDS));
      }
      assertThat(ids).hasSize(250);
      assertThat(store.listDelegates("acc1")).hasSize(250).allSatisfy(d -> assertThat(d.connected()).isTrue());
    } finally {
      pool.shutdownNow();
    }
    try (JdbcStore reopened = (JdbcStore) JdbcStore.open(JdbcStore.h2Url(dir.resolve("connects")), null, null)) {
      assertThat(reopened.listDelegates("acc1")).extracting(DelegateRecord::id).containsExactlyInAnyOrderElementsOf(ids);
    }
  }

  /** The page cache is the manager's 4 MB, not H2's default of 16 MB (docs/operations.md). */
  @Test
  void theEmbeddedDatabaseKeepsAFourMegabytePageCache() throws Exception {
    try (JdbcStore store = (JdbcStore) JdbcStore.open(JdbcStore.h2Url(dir.resolve("cache")), null, null);
        Connection c = store.dataSource().getConnection();
        ResultSet rs = c.createStatement().executeQuery(
            "SELECT SETTING_VALUE FROM INFORMATION_SCHEMA.SETTINGS WHERE SETTING_NAME = 'info.CACHE_MAX_SIZE'")) {
      assertThat(rs.next()).isTrue();
      // in MB
      assertThat(rs.getInt(1)).isEqualTo(4);
    }
  }

  private static DelegateRecord delegate(String name) {
    return new DelegateRecord(null, "acc1", name, name + "-host", "SHELL_SCRIPT", "1", List.of("x"), "127.0.0.1",
        "tid_aaaaaaaaaaaaaaaa", "default", true, T0, T0, T0, null, null, "r1");
  }
}
