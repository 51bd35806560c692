package dev.tether.manager.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class GroupCommitTest {

  /** A batch whose shared write fails is written one by one: only the bad item's caller fails. */
  @Test
  void aFailedSharedWrite_isRetriedItemByItem_andOnlyTheBadItemFails() throws Exception {
    CountDownLatch firstInside = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    List<List<Integer>> batches = new ArrayList<>();
    GroupCommit<Integer, String> commits = new GroupCommit<>("test-commits", 16, items -> {
      batches.add(items);
      if (items.contains(13)) {
        throw new StoreException("bad item in the batch", null);
      }
      return items.stream().map(i -> "ok" + i).toList();
    }, item -> {
      if (item == 0) {
        // hold the writer so that the others queue up behind it and share the next transaction
        firstInside.countDown();
        hold(release);
      }
      if (item == 13) {
        throw new StoreException("item 13 refused", null);
      }
      return "alone" + item;
    });
    ExecutorService pool = Executors.newFixedThreadPool(4);
    try {
      Future<String> first = pool.submit(() -> commits.submit(0));
      assertThat(firstInside.await(10, TimeUnit.SECONDS)).isTrue();
      Future<String> a = pool.submit(() -> commits.submit(1));
      Future<String> bad = pool.submit(() -> commits.submit(13));
      Future<String> b = pool.submit(() -> commits.submit(2));
      await().atMost(Duration.ofSeconds(10)).until(() -> commits.queued() == 3);
      release.countDown();

      assertThat(first.get(10, TimeUnit.SECONDS)).isEqualTo("alone0");
      assertThat(a.get(10, TimeUnit.SECONDS)).isEqualTo("alone1");
      assertThat(b.get(10, TimeUnit.SECONDS)).isEqualTo("alone2");
      assertThatThrownBy(() -> bad.get(10, TimeUnit.SECONDS)).hasCauseInstanceOf(StoreException.class)
          .hasMessageContaining("item 13 refused");
      // the three that queued behind the first were tried together once
      assertThat(batches).singleElement().satisfies(batch -> assertThat(batch).containsExactlyInAnyOrder(1, 13, 2));
    } finally {
      release.countDown();
      commits.close();
      pool.shutdownNow();
    }
  }

  @Test
  void afterClose_writesAreRefused() {
    GroupCommit<Integer, Integer> commits = new GroupCommit<>("test-commits", 16, items -> items, item -> item);
    assertThat(commits.submit(7)).isEqualTo(7);

    commits.close();

    assertThatThrownBy(() -> commits.submit(8)).isInstanceOf(StoreException.class).hasMessageContaining("store closed");
  }

  private static void hold(CountDownLatch latch) {
    try {
      latch.await(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
