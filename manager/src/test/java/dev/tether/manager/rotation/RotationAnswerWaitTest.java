package dev.tether.manager.rotation;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.tether.common.testing.TokenLedger;
import dev.tether.common.token.DelegateToken;
import dev.tether.delegate.connect.StreamClient;
import dev.tether.manager.server.ManagerSettings;
import dev.tether.manager.store.Actor;
import dev.tether.manager.store.RotationDelegate;
import dev.tether.manager.store.TetherStore;
import dev.tether.manager.testing.ManagerFixture;
import dev.tether.proto.delegate.v1.RotationResult;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A rotation's answers, a burst of them as every delegate of a large fleet answers at once, are
 * recorded without holding the threads that run the delegate streams: while the database keeps
 * those writes waiting, other delegates' heartbeats are still acknowledged.
 */
class RotationAnswerWaitTest {

  /** More than the stream pool's threads, spares for waiting tasks included (one a core and 256). */
  private static final int ANSWERS = 300;

  @TempDir Path dataDir;
  private final CountDownLatch database = new CountDownLatch(1);
  private final AtomicInteger answersWriting = new AtomicInteger();
  private ManagerFixture fixture;
  private String accountId;

  @BeforeEach
  void start() {
    fixture = new ManagerFixture(dataDir, ManagerSettings.defaults(), this::slowAnswers);
    accountId = fixture.account("acme").account().id();
  }

  @AfterEach
  void stop() {
    database.countDown();
    fixture.close();
  }

  /**
   * Writes of a delegate's answer (anything but the manager's own SENT) wait until {@link #database}
   * opens, as a database under load would: in a managed block on a work-stealing pool's thread, as
   * the store waits for its database.
   */
  private TetherStore slowAnswers(TetherStore store) {
    return (TetherStore) Proxy.newProxyInstance(TetherStore.class.getClassLoader(), new Class<?>[] {TetherStore.class},
        (proxy, method, args) -> {
          if (method.getName().equals("recordRotationDelegate")
              && ((RotationDelegate) args[0]).outcome() != RotationDelegate.Outcome.SENT) {
            answersWriting.incrementAndGet();
            ForkJoinPool.managedBlock(new ForkJoinPool.ManagedBlocker() {
              @Override
              public boolean block() throws InterruptedException {
                database.await(60, TimeUnit.SECONDS);
                return true;
              }

              @Override
              public boolean isReleasable() {
                return database.getCount() == 0;
              }
            });
          }
          try {
            return method.invoke(store, args);
          } catch (InvocationTargetException e) {
            throw e.getCause();
          }
        });
  }

  @Test
  void whileTheDatabaseHoldsABurstOfAnswers_otherDelegatesHeartbeatsAreAcknowledged() throws Exception {
    StreamClient steady = fixture.connect(accountId, TokenLedger.record(fixture.token(accountId, "steady").value()),
        "steady");
    DelegateToken old = TokenLedger.record(fixture.token(accountId, "ci").value());
    List<StreamClient> fleet = fixture.connectMany(accountId, old, "fleet", ANSWERS);
    AtomicInteger pushed = new AtomicInteger();
    fleet.forEach(stream -> stream.onRotateToken(rotate -> pushed.incrementAndGet()));
    RotationService.Opened opened = fixture.manager().rotations().open(accountId, "ci", null, Duration.ofHours(1),
        true, Actor.named("test"));
    TokenLedger.record(opened.successor().value());
    String rotationId = opened.rotation().id();
    await("the successor handed to every delegate of the fleet").atMost(Duration.ofSeconds(60))
        .until(() -> pushed.get() == ANSWERS);

    for (StreamClient stream : fleet) {
      stream.rotationResult(rotationId, RotationResult.Outcome.CANNOT_KEEP, "read-only token file");
    }
    await("a delegate's answer waiting for the database").atMost(Duration.ofSeconds(30))
        .until(() -> answersWriting.get() >= 1);
    for (int i = 0; i < 5; i++) {
      long sequence = steady.heartbeat();
      await("heartbeat " + sequence + " acknowledged while the answers wait").atMost(Duration.ofSeconds(30))
          .until(() -> steady.lastAckSequence() >= sequence);
    }

    database.countDown();
    await("every answer recorded once the database goes on").atMost(Duration.ofSeconds(60))
        .until(() -> fixture.manager().rotations().report(accountId, "ci").count("CANNOT_KEEP") == ANSWERS);
  }
}
