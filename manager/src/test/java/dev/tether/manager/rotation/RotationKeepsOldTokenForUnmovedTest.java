package dev.tether.manager.rotation;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.tether.common.testing.TokenLedger;
import dev.tether.common.token.DelegateToken;
import dev.tether.delegate.connect.StreamClient;
import dev.tether.manager.server.ManagerSettings;
import dev.tether.manager.store.Actor;
import dev.tether.manager.store.Rotation;
import dev.tether.manager.store.TokenStatus;
import dev.tether.manager.testing.ManagerFixture;
import dev.tether.proto.delegate.v1.RotationResult;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A delegate that was handed the successor and could not keep it must keep its old token until
 * the operator finishes the rotation (issue 16: the old token is revoked "when every delegate that
 * was connected has moved"): a moment without a stream, a delegate restart or a manager restart,
 * must not count as "moved" and revoke the token under it.
 */
class RotationKeepsOldTokenForUnmovedTest {

  @TempDir Path dir;

  @Test
  void aDelegateThatCannotKeepTheSuccessorAndReconnects_isNotCutByTheRotation() throws Exception {
    RotationTicks ticks = new RotationTicks();
    try (ManagerFixture fixture = new ManagerFixture(dir, ManagerSettings.defaults(), ticks::wrap)) {
      String accountId = fixture.account("acme").account().id();
      DelegateToken old = fixture.token(accountId, "ci").value();
      StreamClient onEnv = cannotKeep(fixture.connect(accountId, old, "env-1"));

      RotationService rotations = fixture.manager().rotations();
      TokenLedger.record(rotations.open(accountId, "ci", null, Duration.ZERO, true, Actor.named("test"))
          .successor().value());
      await().atMost(Duration.ofSeconds(30)).until(() -> rotations.report(accountId, "ci").count("CANNOT_KEEP") == 1);

      // the delegate restarts (a pod rescheduled, a host rebooted): its stream ends for a moment
      onEnv.close();
      await().atMost(Duration.ofSeconds(30)).until(() -> fixture.manager().store().listDelegates(accountId).stream()
          .noneMatch(d -> d.connected()));
      int seen = ticks.started();
      await().atMost(Duration.ofSeconds(30)).until(() -> ticks.started() >= seen + 2);

      assertThat(rotations.report(accountId, "ci").rotation().state())
          .as("a delegate that could not keep the successor has not moved: the rotation waits for --finish")
          .isEqualTo(Rotation.State.OPEN);
      assertThat(fixture.manager().tokens().token(accountId, "ci").status()).isEqualTo(TokenStatus.ACTIVE);
      cannotKeep(fixture.connect(accountId, old, "env-1"));
    }
  }

  @Test
  void aManagerRestartDuringARotation_doesNotRevokeTheTokenOfADelegateThatCannotKeepTheSuccessor() throws Exception {
    String accountId;
    DelegateToken old;
    try (ManagerFixture fixture = new ManagerFixture(dir)) {
      accountId = fixture.account("acme").account().id();
      old = fixture.token(accountId, "ci").value();
      cannotKeep(fixture.connect(accountId, old, "env-1"));
      RotationService rotations = fixture.manager().rotations();
      TokenLedger.record(rotations.open(accountId, "ci", null, Duration.ZERO, true, Actor.named("test"))
          .successor().value());
      await().atMost(Duration.ofSeconds(30)).until(() -> rotations.report(accountId, "ci").count("CANNOT_KEEP") == 1);
      assertThat(rotations.report(accountId, "ci").rotation().state()).isEqualTo(Rotation.State.OPEN);
    }

    RotationTicks ticks = new RotationTicks();
    try (ManagerFixture restarted = new ManagerFixture(dir, ManagerSettings.defaults(), ticks::wrap)) {
      await().atMost(Duration.ofSeconds(30)).until(() -> ticks.started() >= 2);
      assertThat(restarted.manager().rotations().report(accountId, "ci").rotation().state())
          .as("the manager restarted before the delegate could reconnect; the delegate has not moved")
          .isEqualTo(Rotation.State.OPEN);
      assertThat(restarted.manager().tokens().token(accountId, "ci").status()).isEqualTo(TokenStatus.ACTIVE);
      cannotKeep(restarted.connect(accountId, old, "env-1"));
    }
  }

  /** Answers every RotateToken as a delegate on an environment variable does. */
  private static StreamClient cannotKeep(StreamClient stream) {
    stream.onRotateToken(m -> stream.rotationResult(m.getRotationId(), RotationResult.Outcome.CANNOT_KEEP,
        "cannot keep the new token: the token comes from the environment variable DELEGATE_TOKEN"));
    return stream;
  }
}
