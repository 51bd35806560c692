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
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A delegate that answers a RotateToken before the manager has written down that it sent it: the
 * answer must stand, not be overwritten by "sent" and later reported as "no answer".
 */
class FastAnswerTest {

  @TempDir Path dir;

  @Test
  void anAnswerRecordedBeforeTheSentMark_isKept() throws Exception {
    CountDownLatch answered = new CountDownLatch(1);
    CountDownLatch sentMarked = new CountDownLatch(1);
    try (ManagerFixture fixture = new ManagerFixture(dir, ManagerSettings.defaults(),
        real -> slowSent(real, answered, sentMarked))) {
      String accountId = fixture.account("acme").account().id();
      DelegateToken old = fixture.token(accountId, "ci").value();
      StreamClient stream = fixture.connect(accountId, old, "env-1");
      stream.onRotateToken(m -> stream.rotationResult(m.getRotationId(), RotationResult.Outcome.CANNOT_KEEP,
          "cannot keep the new token: the token comes from the environment variable DELEGATE_TOKEN"));

      RotationService rotations = fixture.manager().rotations();
      TokenLedger.record(rotations.open(accountId, "ci", null, Duration.ofHours(1), true, Actor.named("test"))
          .successor().value());

      // the report reads NOT_SENT until an outcome is written, then SENT until the answer is: read it
      // once the SENT mark's write has been made (what must not overwrite the answer) and an answer is in
      await().atMost(Duration.ofSeconds(30)).until(() -> sentMarked.getCount() == 0
          && rotations.report(accountId, "ci").delegates().stream()
              .noneMatch(d -> d.outcome().equals("NOT_SENT") || d.outcome().equals("SENT")));
      assertThat(rotations.report(accountId, "ci").delegates()).singleElement()
          .satisfies(d -> assertThat(d.outcome()).isEqualTo("CANNOT_KEEP"));
    }
  }

  /**
   * Holds back the write of a SENT mark until a delegate's answer has been written (at most 5 s: when
   * the mark is written before the RotateToken goes out, no answer can come first).
   */
  private static TetherStore slowSent(TetherStore real, CountDownLatch answered, CountDownLatch sentMarked) {
    return (TetherStore) Proxy.newProxyInstance(TetherStore.class.getClassLoader(), new Class<?>[] {TetherStore.class},
        (proxy, method, args) -> {
          boolean record = method.getName().equals("recordRotationDelegate");
          if (record && ((RotationDelegate) args[0]).outcome() == RotationDelegate.Outcome.SENT) {
            answered.await(5, TimeUnit.SECONDS);
          }
          try {
            return method.invoke(real, args);
          } catch (InvocationTargetException e) {
            throw e.getCause();
          } finally {
            if (record && ((RotationDelegate) args[0]).outcome() == RotationDelegate.Outcome.CANNOT_KEEP) {
              answered.countDown();
            }
            if (record && ((RotationDelegate) args[0]).outcome() == RotationDelegate.Outcome.SENT) {
              sentMarked.countDown();
            }
          }
        });
  }
}
