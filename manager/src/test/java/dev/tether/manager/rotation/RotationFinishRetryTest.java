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
 * commits.
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
}
