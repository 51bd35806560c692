package dev.tether.common.token;

import static java.nio.charset.StandardCharsets.US_ASCII;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.common.io.BaseEncoding;
import dev.tether.common.handshake.HandshakeCrypto;
import dev.tether.common.testing.TokenLedger;
import java.util.HashSet;
import java.util.Set;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.CharRange;
import net.jqwik.api.constraints.StringLength;
import org.junit.jupiter.api.Test;

class DelegateTokenTest {

  @Test
  void generated_hasPrefixLengthAndAlphabetSecretScannersCanMatch() {
    DelegateToken token = TokenLedger.record(DelegateToken.generate());

    assertThat(token.reveal()).matches("tdt_[a-z2-7]{58}");
    assertThat(token.publicId()).matches("tid_[a-z2-7]{16}");
    assertThat(token.isGenerated()).isTrue();
  }

  @Test
  void generated_areUniqueAndRoundTripThroughParse() {
    Set<String> seen = new HashSet<>();
    for (int i = 0; i < 1000; i++) {
      DelegateToken token = TokenLedger.record(DelegateToken.generate());
      assertThat(seen.add(token.reveal())).isTrue();
      DelegateToken parsed = DelegateToken.parse("DELEGATE_TOKEN", "  " + token.reveal() + "\n");
      assertThat(parsed).isEqualTo(token);
      assertThat(parsed.publicId()).isEqualTo(token.publicId());
    }
  }

  @Test
  void toString_showsOnlyThePublicId() {
    DelegateToken token = TokenLedger.record(DelegateToken.generate());

    assertThat(token.toString()).isEqualTo("DelegateToken[" + token.publicId() + "]");
    assertThat(TokenLedger.leaksIn(token.toString())).isEmpty();
  }

  @Test
  void parse_rejectsAMistypedTokenLocallyWithAClearMessage() {
    String good = TokenLedger.record(DelegateToken.generate()).reveal();
    char last = good.charAt(good.length() - 10);
    String typo = good.substring(0, good.length() - 10) + (last == 'a' ? 'b' : 'a') + good.substring(good.length() - 9);

    assertThatThrownBy(() -> DelegateToken.parse("DELEGATE_TOKEN", typo))
        .isInstanceOf(TokenFormatException.class)
        .hasMessage("DELEGATE_TOKEN is malformed: checksum mismatch (expected a token starting with"
            + " 'tdt_'; copy it again from 'token create')")
        .satisfies(e -> assertThat(TokenLedger.leaksIn(e.getMessage())).isEmpty());
  }

  @Test
  void parse_namesTheProblemAndNeverTheValue() {
    String good = TokenLedger.record(DelegateToken.generate()).reveal();

    assertThatThrownBy(() -> DelegateToken.parse("DELEGATE_TOKEN", good.substring(0, 50)))
        .hasMessageContaining("50 characters, expected 62");
    assertThatThrownBy(() -> DelegateToken.parse("delegateToken in config-delegate.yaml", "tdt_A" + good.substring(5)))
        .hasMessageStartingWith("delegateToken in config-delegate.yaml is malformed: invalid character at position 5");
    assertThatThrownBy(() -> DelegateToken.parse("DELEGATE_TOKEN", "   "))
        .hasMessage("DELEGATE_TOKEN is empty (expected a delegate token from 'token create')");
    assertThatThrownBy(() -> DelegateToken.parse("DELEGATE_TOKEN", "short"))
        .hasMessageContaining("5 characters");
  }

  @Test
  void custom_isAnyPrintableValueOfTheRightLengthAndHasNoPublicIdWithoutAnAccount() {
    String legacy = "3f8a9c0d2e7b4a61958c0f1d2b3e4a5c";
    DelegateToken custom = DelegateToken.parse("DELEGATE_TOKEN", legacy);
    assertThat(custom.isGenerated()).isFalse();
    assertThat(custom.reveal()).isEqualTo(legacy);
    assertThat(custom.toString()).isEqualTo("DelegateToken[custom]");
    assertThatThrownBy(custom::publicId).isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("credential(accountId)");

    assertThatThrownBy(() -> DelegateToken.parse("DELEGATE_TOKEN", "has space in it and is long enough"))
        .hasMessageContaining("not printable ASCII");
    assertThatThrownBy(() -> DelegateToken.parse("DELEGATE_TOKEN", "x".repeat(513)))
        .hasMessageContaining("513 characters");
  }

  @Test
  void generated_credentialIsTheFastFormulaOfSection3() {
    DelegateToken token = TokenLedger.record(DelegateToken.generate());

    TokenCredential credential = token.credential("acme-0001");
    assertThat(credential.publicId()).isEqualTo(token.publicId());
    assertThat(credential.key()).isEqualTo(HandshakeCrypto.tokenKey(token.reveal().getBytes(US_ASCII), "acme-0001"));
    assertThat(credential.toString()).isEqualTo("TokenCredential[" + token.publicId() + "]");
  }

  @Test
  void custom_credentialIsBoundToTheAccountKeptPerInstanceAndNotAFastHash() {
    DelegateToken custom = TokenLedger.record(DelegateToken.parse("DELEGATE_TOKEN", "kQ7#vX2m!Lp9@Zr4$Tn8&Wb3*Hc6^Jd1%Fg5"));
    byte[] value = custom.reveal().getBytes(US_ASCII);

    TokenCredential inAcme = custom.credential("acme-0001");
    TokenCredential inOther = custom.credential("other-0002");
    assertThat(inAcme.publicId()).matches("tid_[a-z2-7]{16}").isNotEqualTo(inOther.publicId());
    assertThat(inAcme.key()).isNotEqualTo(inOther.key());
    assertThat(custom.credential("acme-0001")).as("derived once per account").isSameAs(inAcme);
    assertThat(inAcme.toString()).isEqualTo("TokenCredential[" + inAcme.publicId() + "]");

    // the fast formulas of generated tokens (what custom tokens used before) match neither
    assertThat(inAcme.publicId()).isNotEqualTo(fastPublicId(value));
    assertThat(inAcme.key()).isNotEqualTo(HandshakeCrypto.tokenKey(value, "acme-0001"));
  }

  @Test
  void fingerprint_isTheSameInEveryAccountAndDependsOnTheKey() {
    DelegateToken custom = TokenLedger.record(DelegateToken.parse("DELEGATE_TOKEN", "kQ7#vX2m!Lp9@Zr4$Tn8&Wb3*Hc6^Jd1%Fg5"));
    DelegateToken again = DelegateToken.parse("DELEGATE_TOKEN", custom.reveal());
    DelegateToken generated = TokenLedger.record(DelegateToken.generate());
    byte[] key = HandshakeCrypto.randomBytes(32);

    assertThat(again.fingerprint(key)).isEqualTo(custom.fingerprint(key)).hasSize(32);
    assertThat(custom.fingerprint(HandshakeCrypto.randomBytes(32))).isNotEqualTo(custom.fingerprint(key));
    assertThat(DelegateToken.parse("x", generated.reveal()).fingerprint(key)).isEqualTo(generated.fingerprint(key));
    assertThat(generated.fingerprint(key)).isNotEqualTo(custom.fingerprint(key));
  }

  private static String fastPublicId(byte[] value) {
    byte[] label = "tether/v1 token id".getBytes(US_ASCII);
    byte[] input = new byte[label.length + value.length];
    System.arraycopy(label, 0, input, 0, label.length);
    System.arraycopy(value, 0, input, label.length, value.length);
    return "tid_" + BaseEncoding.base32().lowerCase().omitPadding().encode(HandshakeCrypto.sha256(input), 0, 10);
  }

  @Test
  void equality_isByValue() {
    DelegateToken a = TokenLedger.record(DelegateToken.generate());
    DelegateToken b = TokenLedger.record(DelegateToken.generate());

    assertThat(a).isNotEqualTo(b);
    assertThat(DelegateToken.parse("x", a.reveal())).isEqualTo(a).hasSameHashCodeAs(a);
  }

  @Property(tries = 2000)
  void parse_ofAnyTextEitherSucceedsOrSaysWhyWithoutEchoingIt(@ForAll @StringLength(max = 120) String text) {
    try {
      DelegateToken token = DelegateToken.parse("DELEGATE_TOKEN", text);
      assertThat(token.reveal()).isEqualTo(text.strip());
    } catch (TokenFormatException e) {
      assertThat(e.getMessage()).startsWith("DELEGATE_TOKEN ");
      if (text.strip().length() >= 8) {
        assertThat(e.getMessage()).doesNotContain(text.strip());
      }
    }
  }

  @Property(tries = 2000)
  void parse_rejectsEverySingleCharacterChangeOfAGeneratedToken(
      @ForAll @CharRange(from = 'a', to = 'z') char replacement, @ForAll("positions") int position) {
    String good = DelegateToken.generate().reveal();
    if (good.charAt(position) == replacement) {
      return;
    }
    String changed = good.substring(0, position) + replacement + good.substring(position + 1);
    assertThatThrownBy(() -> DelegateToken.parse("DELEGATE_TOKEN", changed)).isInstanceOf(TokenFormatException.class);
  }

  @net.jqwik.api.Provide
  net.jqwik.api.Arbitrary<Integer> positions() {
    return net.jqwik.api.Arbitraries.integers().between(4, 61);
  }
}
