package dev.tether.manager.token;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tether.common.token.DelegateToken;
import dev.tether.manager.install.InstallSpec;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import org.junit.jupiter.api.Test;

/**
 * Account, token and install-file names go through the shared UserText check: a format or control
 * character is named as U+XXXX with its position, and never shown raw in the error.
 */
class NamesTest {

  @Test
  void tokenAndAccountNames_withAFormatCharacter_areRefusedNamingTheCodePoint() {
    assertThatThrownBy(() -> Names.tokenName("ci\u202Eved"))
        .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
          assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
          assertThat(e.getStatus().getDescription())
              .startsWith("token name has U+202E RIGHT-TO-LEFT OVERRIDE (a format character) at position 3")
              .doesNotContain("\u202E");
        });
    assertThatThrownBy(() -> Names.accountName("acme\u2028audit"))
        .hasMessageContaining("account name has U+2028 LINE SEPARATOR (a line separator) at position 5");
    assertThatThrownBy(() -> Names.tokenName("has space"))
        .hasMessageContaining("token name 'has space' is invalid (expected letters, digits");
  }

  @Test
  void installFileNames_withAFormatCharacter_areRefusedNamingTheFlagAndCodePoint() {
    DelegateToken token = DelegateToken.generate();
    assertThatThrownBy(() -> new InstallSpec("acct", "t", token, "https://m:7443", "builder\u200B1", "tether", "i:1",
        null, null, null, null))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("--delegate-name has U+200B ZERO WIDTH SPACE (a format character) at position 8")
        .satisfies(e -> assertThat(e.getMessage()).doesNotContain("\u200B"));
  }
}
