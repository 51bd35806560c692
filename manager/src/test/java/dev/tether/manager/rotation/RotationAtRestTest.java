package dev.tether.manager.rotation;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tether.common.testing.TokenLedger;
import dev.tether.manager.store.Actor;
import dev.tether.manager.store.RotationDelegate;
import dev.tether.manager.store.TetherStore;
import dev.tether.manager.testing.ManagerFixture;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What a rotation leaves in the database: the sealed successor only while the rotation is open
 * (docs/security.md: the manager keeps it "while the rotation is open"), and any reason the
 * manager accepts from a delegate fits the column it is written to.
 */
class RotationAtRestTest {

  @TempDir Path dir;

  @Test
  void anEndedRotation_noLongerHoldsTheSealedSuccessor() {
    try (ManagerFixture fixture = new ManagerFixture(dir)) {
      String accountId = fixture.account("acme").account().id();
      fixture.token(accountId, "ci");
      fixture.token(accountId, "cd");
      RotationService rotations = fixture.manager().rotations();
      RotationService.Opened finished = rotations.open(accountId, "ci", null, Duration.ofHours(1), false,
          Actor.named("test"));
      TokenLedger.record(finished.successor().value());
      RotationService.Opened cancelled = rotations.open(accountId, "cd", null, Duration.ofHours(1), false,
          Actor.named("test"));
      TokenLedger.record(cancelled.successor().value());
      TetherStore store = fixture.manager().store();
      assertThat(store.findRotation(finished.rotation().id()).orElseThrow().sealedSuccessor()).isNotEmpty();

      rotations.end(accountId, "ci", true, Actor.named("test"));
      rotations.end(accountId, "cd", false, Actor.named("test"));

      assertThat(store.findRotation(finished.rotation().id()).orElseThrow().sealedSuccessor())
          .as("a finished rotation's stored successor").isEmpty();
      assertThat(store.findRotation(cancelled.rotation().id()).orElseThrow().sealedSuccessor())
          .as("a cancelled rotation's stored successor").isEmpty();
    }
  }

  @Test
  void aReasonOfTheLongestAcceptedLength_isStored_evenOutsideTheBasicPlane() {
    try (ManagerFixture fixture = new ManagerFixture(dir)) {
      // 1024 code points, each two UTF-16 units: accepted as is by the manager's check
      String reason = RotationService.reason("\uD83D\uDD11".repeat(RotationService.MAX_REASON));
      assertThat(reason.codePointCount(0, reason.length())).isEqualTo(RotationService.MAX_REASON);

      fixture.manager().store().recordRotationDelegate(new RotationDelegate("rot_0", "dlg_0",
          RotationDelegate.Outcome.CANNOT_KEEP, reason, Instant.now()));

      assertThat(fixture.manager().store().rotationDelegates("rot_0")).singleElement()
          .satisfies(d -> assertThat(d.reason()).isEqualTo(reason));
    }
  }
}
