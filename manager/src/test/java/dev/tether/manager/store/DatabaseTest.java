package dev.tether.manager.store;

import static org.assertj.core.api.Assertions.assertThat;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DatabaseTest {

  @TempDir Path dir;

  @Test
  void workThatWaitsOnTheDatabase_onAWorkStealingPool_getsSpareThreads() throws Exception {
    // the manager's delegate-stream pool has one thread per core; database work on it (a rotation's
    // answers, a successor pushed at Register) must not hold up every other task of the pool
    HikariConfig config = new HikariConfig();
    String url = JdbcStore.h2Url(dir);
    config.setJdbcUrl(url);
    config.setMaximumPoolSize(8);
    ForkJoinPool pool = new ForkJoinPool(2);
    try (HikariDataSource dataSource = new HikariDataSource(config)) {
      Database db = new Database(dataSource, Dialect.of(url));
      int waiters = 6;
      CountDownLatch allInside = new CountDownLatch(waiters);
      List<Future<Boolean>> sawEveryone = new ArrayList<>();
      for (int i = 0; i < waiters; i++) {
        sawEveryone.add(pool.submit(() -> db.query("a slow query", c -> {
          // a query that takes until all six are inside, which two threads alone never see
          allInside.countDown();
          try {
            return allInside.await(30, TimeUnit.SECONDS) && c.isValid(1);
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
          }
        })));
      }
      for (Future<Boolean> f : sawEveryone) {
        assertThat(f.get(60, TimeUnit.SECONDS)).as("every query was inside at once").isTrue();
      }
    } finally {
      pool.shutdownNow();
    }
  }
}
