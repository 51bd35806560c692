package dev.tether.manager.rotation;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.tether.common.testing.TokenLedger;
import dev.tether.manager.server.ManagerSettings;
import dev.tether.manager.store.Actor;
import dev.tether.manager.store.Rotation;
import dev.tether.manager.store.TokenStatus;
import dev.tether.manager.testing.FaultyStore;
import dev.tether.manager.testing.ManagerFixture;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A rotation is finished, but the revoke of its old token fails (the database is unreachable at
 * that moment): the old token must still end. The manager says so, and retries the revoke until it
 * commits; should it stop first, the next manager on the database revokes it.
 */
class RotationFinishRetryTest {

  @TempDir Path dataDir;
  private final FaultyStore faults = new FaultyStore();

  @Test
  void aFinishWhoseRevokeFails_isRetriedUntilTheOldTokenIsRevoked() {
    try (ManagerFixture fixture = new ManagerFixture(dataDir, ManagerSettings.defaults(), faults::wrap)) {
      String accountId = fixture.account("acme").account().id();
      TokenLedger.record(fixture.token(accountId, "ci").value());
      TokenLedger.record(fixture.manager().rotations().open(accountId, "ci", null, Duration.ofHours(1), false,
          Actor.named("test")).successor().value());

      faults.down("revokeToken");
      assertThatThrownBy(() -> fixture.manager().rotations().end(accountId, "ci", true, Actor.named("test")))
          .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
            assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE);
            assertThat(e.getStatus().getDescription()).contains("is finished, but revoking the old token")
                .contains("this manager retries the revoke every second until it commits");
          });
      assertThat(fixture.manager().rotations().report(accountId, "ci").rotation().state())
          .isEqualTo(Rotation.State.FINISHED);
      assertThat(fixture.manager().tokens().token(accountId, "ci").status()).isEqualTo(TokenStatus.ACTIVE);

      faults.up();
      await("the old token revoked by a retry").atMost(Duration.ofSeconds(30))
          .until(() -> fixture.manager().tokens().token(accountId, "ci").status() == TokenStatus.REVOKED);
      assertThat(fixture.manager().tokens().token(accountId, "ci").revokedBy()).isEqualTo("test");
    }
  }

  @Test
  void aFinishWhoseRevokeFails_andWhoseManagerStops_isRevokedByTheNextManager_andACancelledRotationIsLeftAlone() {
    String accountId;
    String rotationId;
    try (ManagerFixture fixture = new ManagerFixture(dataDir, ManagerSettings.defaults(), faults::wrap)) {
      accountId = fixture.account("acme").account().id();
      TokenLedger.record(fixture.token(accountId, "ci").value());
      TokenLedger.record(fixture.token(accountId, "cd").value());
      RotationService.Opened ci = fixture.manager().rotations().open(accountId, "ci", null, Duration.ofHours(1), false,
          Actor.named("test"));
      TokenLedger.record(ci.successor().value());
      rotationId = ci.rotation().id();
      TokenLedger.record(fixture.manager().rotations().open(accountId, "cd", null, Duration.ofHours(1), false,
          Actor.named("test")).successor().value());
      fixture.manager().rotations().end(accountId, "cd", false, Actor.named("test"));

      faults.down("revokeToken");
      assertThatThrownBy(() -> fixture.manager().rotations().end(accountId, "ci", true, Actor.named("test")))
          .isInstanceOf(StatusRuntimeException.class);
      assertThat(fixture.manager().tokens().token(accountId, "ci").status()).isEqualTo(TokenStatus.ACTIVE);
      // the manager stops while the database still refuses the revoke: its retry dies with it
    }

    try (ManagerFixture next = new ManagerFixture(dataDir, ManagerSettings.defaults())) {
      await("the finished rotation's old token revoked by the next manager").atMost(Duration.ofSeconds(60))
          .until(() -> next.manager().tokens().token(accountId, "ci").status() == TokenStatus.REVOKED);
      var ci = next.manager().tokens().token(accountId, "ci");
      assertThat(ci.revokedBy()).isEqualTo("system");
      assertThat(ci.revokeReason()).contains("by rotation " + rotationId).contains("its revoke left over");
      assertThat(next.manager().rotations().report(accountId, "ci").rotation().state())
          .isEqualTo(Rotation.State.FINISHED);
      // a cancelled rotation leaves its old token active, and the pass that revoked ci saw it too
      assertThat(next.manager().rotations().report(accountId, "cd").rotation().state())
          .isEqualTo(Rotation.State.CANCELLED);
      assertThat(next.manager().tokens().token(accountId, "cd").status()).isEqualTo(TokenStatus.ACTIVE);
    }
  }
}
