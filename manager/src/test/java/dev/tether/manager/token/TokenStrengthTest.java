package dev.tether.manager.token;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tether.common.testing.TokenLedger;
import dev.tether.common.token.DelegateToken;
import dev.tether.common.token.TokenFormatException;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The import rule: zxcvbn's estimate of the first 64 characters must reach 128 bits. */
class TokenStrengthTest {

  private static final SecureRandom RANDOM = new SecureRandom();
  private static final List<String> CONTEXT = List.of("acct0001", "acme", "legacy");

  /** The four values of Tether issue 11, finding 3: accepted before, cracked from their ids in 52 s. */
  @ParameterizedTest
  @ValueSource(strings = {"abcdefghijklmnopqrstuvwxyz0123456789", "qwertyuiopasdfghjklzxcvbnm1234567890",
      "Tether-Prod-Delegate-Token-2025!", "ACME-kubernetes-delegate-secret-2024"})
  void theCrackedValuesOfIssue11_areRefusedWithTheEstimateAndWhatToDo(String value) {
    DelegateToken token = TokenLedger.record(DelegateToken.parse("test", value));

    assertThat(TokenStrength.estimateBits(token, CONTEXT)).isLessThan(100);
    assertThatThrownBy(() -> TokenStrength.check("imported token value", token, CONTEXT))
        .isInstanceOf(TokenFormatException.class)
        .hasMessageStartingWith("imported token value is too easy to guess: zxcvbn estimates about ")
        .hasMessageContaining("expected at least 128 bits. Use 'token create' to generate a token, or import a"
            + " longer random value (48 or more random characters")
        .satisfies(e -> assertThat(e.getMessage()).doesNotContain(value));
  }

  @Test
  void randomValuesOf48CharactersOrMore_pass() {
    for (int length : new int[] {48, 64, 100, 512}) {
      DelegateToken token = TokenLedger.record(DelegateToken.parse("test", randomHex(length)));
      assertThat(TokenStrength.estimateBits(token, CONTEXT)).as("%d random hex digits", length)
          .isGreaterThanOrEqualTo(TokenStrength.MIN_BITS);
      TokenStrength.check("imported token value", token, CONTEXT);
    }
  }

  @Test
  void onlyTheFirst64CharactersAreEstimated() {
    String head = randomHex(64);
    DelegateToken whole = TokenLedger.record(DelegateToken.parse("test", head + randomHex(448)));
    DelegateToken prefix = TokenLedger.record(DelegateToken.parse("test", head));

    assertThat(TokenStrength.estimateBits(whole, CONTEXT)).isEqualTo(TokenStrength.estimateBits(prefix, CONTEXT));
    DelegateToken weakStart = TokenLedger.record(DelegateToken.parse("test", "a".repeat(64) + randomHex(100)));
    assertThatThrownBy(() -> TokenStrength.check("imported token value", weakStart, CONTEXT))
        .hasMessageContaining("log2 of the guesses it needs, for the first 64 characters");
  }

  @Test
  void theAccountAndTokenNamesCountAsKnownWords() {
    String value = "Zq8Lm3Vx7Rt2Kp9Wn4-" + "acme-production-legacy-delegate";
    DelegateToken token = TokenLedger.record(DelegateToken.parse("test", value));

    assertThat(TokenStrength.estimateBits(token, List.of("acct0001", "acme-production", "legacy-delegate")))
        .isLessThan(TokenStrength.estimateBits(token, List.of()));
  }

  @Test
  void anImportedValueOfTheGeneratedFormIsEstimatedToo() {
    DelegateToken generated = TokenLedger.record(DelegateToken.generate());
    TokenStrength.check("imported token value", generated, CONTEXT);
  }

  private static String randomHex(int length) {
    byte[] bytes = new byte[(length + 1) / 2];
    RANDOM.nextBytes(bytes);
    return HexFormat.of().formatHex(bytes).substring(0, length);
  }
}
