package dev.tether.manager.token;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tether.common.testing.TokenLedger;
import dev.tether.manager.store.Actor;
import dev.tether.manager.store.TokenStatus;
import dev.tether.manager.testing.ManagerFixture;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A revoke on behalf of a rotation names the token it means by its public id: once the name holds
 * another token (the old one revoked, deleted and made again), the new one is not revoked.
 */
class RevokeExpectedTokenTest {

  @TempDir Path dataDir;

  @Test
  void aRevokeOfAnExpectedToken_leavesANewTokenOfTheSameNameAlone() {
    try (ManagerFixture fixture = new ManagerFixture(dataDir)) {
      String accountId = fixture.account("acme").account().id();
      TokenService tokens = fixture.manager().tokens();
      CreatedToken first = fixture.token(accountId, "ci");
      TokenLedger.record(first.value());
      String oldId = tokens.token(accountId, "ci").publicId();
      tokens.revoke(accountId, "ci", Actor.named("test"));
      tokens.delete(accountId, "ci", Actor.named("test"));
      TokenLedger.record(fixture.token(accountId, "ci").value());
      String newId = tokens.token(accountId, "ci").publicId();

      assertThatThrownBy(() -> tokens.revoke(accountId, "ci", oldId, Actor.SYSTEM, "rotated"))
          .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
            assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.NOT_FOUND);
            assertThat(e.getStatus().getDescription()).contains(newId).contains("no longer " + oldId);
          });
      assertThat(tokens.token(accountId, "ci").status()).isEqualTo(TokenStatus.ACTIVE);

      tokens.revoke(accountId, "ci", newId, Actor.SYSTEM, "rotated");
      assertThat(tokens.token(accountId, "ci").status()).isEqualTo(TokenStatus.REVOKED);
    }
  }
}
