package dev.tether.manager.token;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tether.manager.testing.ManagerFixture;
import dev.tether.proto.admin.v1.CreateTokenRequest;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Found by a review: {@code token create --import-stdin} with empty input made the manager
 * generate a random token, the CLI said "imported", and the value was never shown: an active
 * credential that nobody held. An import with no value is an error and creates nothing.
 */
class EmptyImportTest {

  @TempDir Path dataDir;

  @Test
  void anEmptyOrBlankImport_isRefusedAndCreatesNothing() {
    try (ManagerFixture fixture = new ManagerFixture(dataDir)) {
      String accountId = fixture.account("acme").account().id();
      int before = fixture.manager().tokens().listTokens(accountId).size();
      for (String empty : new String[] {"", " ", "\n\t \n"}) {
        assertThatThrownBy(() -> fixture.manager().tokens().createToken(accountId, "ghost", "test", null, empty))
            .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
              assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
              assertThat(e.getStatus().getDescription()).startsWith("the token value to import is empty; nothing was created");
            });
      }
      assertThat(fixture.manager().tokens().listTokens(accountId)).hasSize(before);
    }
  }

  /** On the wire the value's presence, not its length, says whether the caller imports one. */
  @Test
  void theAdminRequest_distinguishesAnEmptyImportFromNoImport() {
    CreateTokenRequest none = CreateTokenRequest.newBuilder().setAccountId("a").setName("n").build();
    CreateTokenRequest empty = CreateTokenRequest.newBuilder().setAccountId("a").setName("n").setImportValue("").build();
    assertThat(none.hasImportValue()).isFalse();
    assertThat(empty.hasImportValue()).isTrue();
  }
}
