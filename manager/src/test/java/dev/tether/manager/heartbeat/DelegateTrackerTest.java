package dev.tether.manager.heartbeat;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.common.base.Ticker;
import dev.tether.manager.metrics.ManagerMetrics;
import dev.tether.manager.revocation.LiveStream;
import dev.tether.manager.revocation.RevocationRegistry;
import dev.tether.manager.store.DelegateStore.Disconnect;
import dev.tether.manager.store.StoreException;
import dev.tether.manager.store.TetherStore;
import dev.tether.manager.store.WriteBehind;
import dev.tether.manager.testing.IdleServerCall;
import io.grpc.Status;
import java.lang.reflect.Proxy;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** How the tracker records the ends of delegate streams in the store. */
class DelegateTrackerTest {

  private static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");
  private static final Status REVOKED = Status.UNAUTHENTICATED.withDescription("delegate token revoked");

  /** Each committed call of the store's delegatesDisconnected: one transaction. */
  private final List<List<Disconnect>> transactions = new CopyOnWriteArrayList<>();
  /** Every call, committed or failed. */
  private final AtomicInteger calls = new AtomicInteger();
  private final AtomicInteger failuresToCome = new AtomicInteger();
  /** Which transactions fail (besides the first failuresToCome), and with what. */
  private volatile Function<List<Disconnect>, StoreException> failure = batch -> null;

  @SuppressWarnings("unchecked")
  private final TetherStore store = (TetherStore) Proxy.newProxyInstance(getClass().getClassLoader(),
      new Class<?>[] {TetherStore.class}, (proxy, method, args) -> {
        if (method.getName().equals("delegatesDisconnected")) {
          List<Disconnect> batch = List.copyOf((List<Disconnect>) args[0]);
          calls.incrementAndGet();
          if (failuresToCome.getAndDecrement() > 0) {
            throw new StoreException("constraint violated", null);
          }
          StoreException failed = failure.apply(batch);
          if (failed != null) {
            throw failed;
          }
          transactions.add(batch);
        }
        return null;
      });

  private final ExecutorService storeWriter = Executors.newSingleThreadExecutor();
  private final RevocationRegistry registry = new RevocationRegistry();
  /** The passes the tracker asked to run after its delay; they run when a test says so ({@link #delayed}). */
  private final List<Runnable> due = new CopyOnWriteArrayList<>();
  /** Whether the tracker's delayed passes wait for the test ({@link #delayed}) or run at once. */
  private volatile boolean holdPasses;
  private final DelegateTracker tracker = new DelegateTracker(store,
      new WriteBehind(store, Ticker.systemTicker(), Duration.ofSeconds(30), DelegateTracker.connectedIn(registry)),
      storeWriter,
      pass -> {
        if (holdPasses) {
          due.add(pass);
        } else {
          pass.run();
        }
      },
      Clock.systemUTC(), Ticker.systemTicker(), HeartbeatSettings.defaults(), ManagerMetrics.unscraped(), registry);

  @AfterEach
  void stopWriter() {
    storeWriter.shutdownNow();
  }

  @Test
  void streamsEndingTogether_shareTransactions_andEveryEndIsRecordedWithItsConnection() throws Exception {
    CountDownLatch release = new CountDownLatch(1);
    // the writer is busy while 5 000 streams end, as when a revoke cuts them all at once
    storeWriter.execute(() -> awaitQuietly(release));
    List<LiveStream> streams = new ArrayList<>();
    for (int i = 0; i < 5000; i++) {
      streams.add(connect("d" + i, T0.plusMillis(i)));
    }
    for (LiveStream s : streams) {
      s.closeWith(REVOKED);
      registry.unregister(s);
    }
    release.countDown();
    drainWriter();

    assertThat(transactions).extracting(List::size).containsExactly(4096, 904);
    List<Disconnect> all = transactions.stream().flatMap(List::stream).toList();
    assertThat(all).extracting(Disconnect::delegateId).doesNotHaveDuplicates().hasSize(5000);
    assertThat(all).allSatisfy(d -> {
      assertThat(d.reason()).isEqualTo("UNAUTHENTICATED: delegate token revoked");
      // the end of the connection it belonged to, never of a newer one of the same delegate
      assertThat(d.connectedSince()).isEqualTo(T0.plusMillis(Integer.parseInt(d.delegateId().substring(1))));
      assertThat(d.at()).isAfter(T0);
    });
  }

  @Test
  void endsWithinTheDelay_areWrittenByOnePassAfterIt_inOneTransaction() throws Exception {
    holdPasses = true;
    List<LiveStream> streams = new ArrayList<>();
    for (int i = 0; i < 600; i++) {
      streams.add(connect("d" + i, T0));
    }
    for (LiveStream s : streams) {
      s.closeWith(REVOKED);
      registry.unregister(s);
    }
    drainWriter();
    assertThat(transactions).as("nothing written before the delay is over").isEmpty();
    assertThat(due).as("one pass asked for, by the first end").hasSize(1);

    due.get(0).run();
    drainWriter();
    assertThat(transactions).singleElement().satisfies(t -> assertThat(t).hasSize(600));

    // the next end asks for a pass of its own
    LiveStream later = connect("later", T0);
    later.closeWith(REVOKED);
    registry.unregister(later);
    assertThat(due).hasSize(2);
    due.get(1).run();
    drainWriter();
    assertThat(transactions).hasSize(2).last().satisfies(t ->
        assertThat(t).extracting(Disconnect::delegateId).containsExactly("later"));
  }

  @Test
  void anEnd_isWrittenBeforeTheWriterFinishesWhatWasQueuedAfterIt() throws Exception {
    // Manager.flush() relies on this: reads that must see every disconnect wait for the writer
    for (int i = 0; i < 300; i++) {
      LiveStream s = connect("d" + i, T0);
      s.closeWith(Status.UNAVAILABLE.withDescription("manager shutting down"));
      registry.unregister(s);
      drainWriter();
      String id = "d" + i;
      assertThat(transactions).as("disconnect of %s written before the writer drained", id)
          .anySatisfy(t -> assertThat(t).extracting(Disconnect::delegateId).contains(id));
    }
  }

  @Test
  void aFailedWrite_isLeftBehind_andLaterEndsAreStillWritten() throws Exception {
    failuresToCome.set(1);
    LiveStream first = connect("lost", T0);
    first.closeWith(REVOKED);
    registry.unregister(first);
    drainWriter();
    assertThat(transactions).isEmpty();

    LiveStream second = connect("later", T0);
    second.closeWith(REVOKED);
    registry.unregister(second);
    drainWriter();
    assertThat(transactions).singleElement().satisfies(t ->
        assertThat(t).extracting(Disconnect::delegateId).containsExactly("later"));
  }

  @Test
  void aBatchThatFails_isWrittenAgainOneEndAtATime_soOnlyTheBadEndIsLost() throws Exception {
    // the shared transaction fails (a deadlock with a registration, one bad row); each end alone
    // is then written, and only the one that fails alone is lost
    failure = batch -> batch.size() > 1 || batch.get(0).delegateId().equals("bad")
        ? new StoreException("deadlock detected", null) : null;
    endTogether("d0", "d1", "bad", "d2");

    assertThat(transactions).allSatisfy(t -> assertThat(t).hasSize(1));
    assertThat(transactions.stream().map(t -> t.get(0).delegateId()))
        .containsExactlyInAnyOrder("d0", "d1", "d2");
  }

  @Test
  void aBatchThatFailsBecauseTheDatabaseIsUnreachable_isNotTriedAgainEndByEnd() throws Exception {
    // each try would wait out the same connection timeout again
    failure = batch -> new StoreException("database unreachable",
        new java.sql.SQLTransientConnectionException("connection is not available, request timed out"));
    endTogether("d0", "d1", "d2");

    assertThat(calls).hasValue(1);
    assertThat(transactions).isEmpty();
  }

  @Test
  void theEndsRecordedSoFar_areWrittenByAFlush_evenBeforeTheirOwnPassRuns() throws Exception {
    CountDownLatch release = new CountDownLatch(1);
    storeWriter.execute(() -> awaitQuietly(release));
    LiveStream s = connect("d0", T0);
    s.closeWith(REVOKED);
    registry.unregister(s);

    // what Manager.flush() runs on the writer; here on this thread, while the writer is busy
    tracker.writeWaitingDisconnects();
    assertThat(transactions).singleElement().satisfies(t ->
        assertThat(t).extracting(Disconnect::delegateId).containsExactly("d0"));
    release.countDown();
    drainWriter();
    assertThat(transactions).as("the end is written once").hasSize(1);
  }

  /** Ends streams of {@code delegateIds} while the writer is busy, then lets it write them. */
  private void endTogether(String... delegateIds) throws Exception {
    CountDownLatch release = new CountDownLatch(1);
    storeWriter.execute(() -> awaitQuietly(release));
    for (String id : delegateIds) {
      LiveStream s = connect(id, T0);
      s.closeWith(REVOKED);
      registry.unregister(s);
    }
    release.countDown();
    drainWriter();
  }

  private LiveStream connect(String delegateId, Instant since) {
    LiveStream stream = registry.register(new IdleServerCall(), 1, "tid_aaaaaaaaaaaaaaaa", null, delegateId);
    tracker.connected(stream, new DelegateTracker.Entry() {
      @Override
      public String delegateId() {
        return delegateId;
      }

      @Override
      String accountId() {
        return "acc1";
      }
    }, since);
    return stream;
  }

  private void drainWriter() throws Exception {
    storeWriter.submit(() -> { }).get(30, TimeUnit.SECONDS);
  }

  private static void awaitQuietly(CountDownLatch latch) {
    try {
      latch.await(60, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
