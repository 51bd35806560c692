package dev.tether.manager.rotation;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tether.common.testing.TokenLedger;
import dev.tether.manager.server.ManagerSettings;
import dev.tether.manager.store.Actor;
import dev.tether.manager.store.Rotation;
import dev.tether.manager.store.TetherStore;
import dev.tether.manager.store.TokenStatus;
import dev.tether.manager.testing.ManagerFixture;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An operator cancels a rotation ("leave the old token active") while a replica's tick has read it
 * as open and is about to finish it. Whichever wins, the outcome must be one of the two: a
 * cancelled rotation with its old token active, or a finished one with it revoked; never a
 * rotation recorded as cancelled whose old token was revoked anyway.
 */
class CancelRacesFinishTest {

  @TempDir Path dir;

  @Test
  void cancelBetweenTheTicksReadAndItsFinish_leavesTheOldTokenActive() throws Exception {
    AtomicReference<Runnable> beforeTickLooksAtDelegates = new AtomicReference<>();
    CountDownLatch tickEnded = new CountDownLatch(1);
    try (ManagerFixture fixture = new ManagerFixture(dir,
        // no settling time: the first tick after the open finishes it
        ManagerSettings.defaults().withRotation(new RotationTiming(Duration.ZERO, Duration.ofSeconds(30))),
        real -> interleave(real, beforeTickLooksAtDelegates, tickEnded))) {
      String accountId = fixture.account("acme").account().id();
      fixture.token(accountId, "ci");
      RotationService rotations = fixture.manager().rotations();
      beforeTickLooksAtDelegates.set(() -> CompletableFuture.runAsync(() ->
          rotations.end(accountId, "ci", false, Actor.named("operator"))).join());

      // no delegate and no grace: the next tick finishes the rotation, and the cancel lands inside it
      TokenLedger.record(rotations.open(accountId, "ci", null, Duration.ZERO, true, Actor.named("test"))
          .successor().value());
      assertThat(tickEnded.await(30, TimeUnit.SECONDS)).isTrue();

      Rotation rotation = rotations.report(accountId, "ci").rotation();
      TokenStatus old = fixture.manager().tokens().token(accountId, "ci").status();
      assertThat(rotation.state() + " with the old token " + old)
          .isIn("CANCELLED with the old token ACTIVE", "FINISHED with the old token REVOKED");
    }
  }

  /**
   * Runs the armed action when the rotation thread first lists delegates (the tick's check before
   * it finishes a rotation), and counts down when that thread then ends a rotation.
   */
  private static TetherStore interleave(TetherStore real, AtomicReference<Runnable> action, CountDownLatch ended) {
    return (TetherStore) Proxy.newProxyInstance(TetherStore.class.getClassLoader(), new Class<?>[] {TetherStore.class},
        (proxy, method, args) -> {
          boolean onTick = Thread.currentThread().getName().startsWith("tether-rotation");
          if (onTick && method.getName().equals("listDelegates")) {
            Runnable armed = action.getAndSet(null);
            if (armed != null) {
              armed.run();
            }
          }
          try {
            return method.invoke(real, args);
          } catch (InvocationTargetException e) {
            throw e.getCause();
          } finally {
            if (onTick && method.getName().equals("endRotation")) {
              ended.countDown();
            }
          }
        });
  }
}
