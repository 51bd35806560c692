package dev.tether.common.token;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import com.google.common.io.BaseEncoding;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Checks the custom-token derivation (Argon2id, public id, key) against the vectors of
 * docs/protocol.md section 3.5, read from the document itself, which an independent implementation
 * over the reference Argon2 library produced.
 */
class CustomTokenVectorsTest {

  private static final BaseEncoding HEX = BaseEncoding.base16().lowerCase();
  private static final Map<String, String> V = new LinkedHashMap<>();

  @BeforeAll
  static void readVectors() throws Exception {
    Path doc = Path.of(System.getProperty("user.dir")).resolve("../docs/protocol.md").normalize();
    String text = Files.readString(doc, UTF_8);
    int start = text.indexOf("```custom-token-vectors");
    assertThat(start).as("a custom-token-vectors block in " + doc).isNotNegative();
    int end = text.indexOf("```", start + 3);
    for (String line : text.substring(start, end).split("\n")) {
      int colon = line.indexOf(':');
      if (colon > 0 && !line.startsWith("```")) {
        V.put(line.substring(0, colon).strip(), line.substring(colon + 1).strip());
      }
    }
    assertThat(V).containsKeys("argon2.memory_kib", "1.token", "2.account_id", "3.token_key");
  }

  @Test
  void argon2Parameters_areThoseOfTheDocument() {
    assertThat(Integer.parseInt(V.get("argon2.version"))).isEqualTo(0x13);
    assertThat(Integer.parseInt(V.get("argon2.iterations"))).isEqualTo(CustomTokenKdf.ARGON2_ITERATIONS);
    assertThat(Integer.parseInt(V.get("argon2.memory_kib"))).isEqualTo(CustomTokenKdf.ARGON2_MEMORY_KIB);
    assertThat(Integer.parseInt(V.get("argon2.parallelism"))).isEqualTo(CustomTokenKdf.ARGON2_PARALLELISM);
    assertThat(Integer.parseInt(V.get("argon2.tag_bytes"))).isEqualTo(CustomTokenKdf.ARGON2_TAG_BYTES);
  }

  @ParameterizedTest
  @ValueSource(strings = {"1", "2", "3"})
  void derivation_matchesStepByStep(String n) {
    String accountId = V.get(n + ".account_id");
    byte[] token = V.get(n + ".token").getBytes(UTF_8);
    assertThat(HEX.encode(accountId.getBytes(UTF_8))).isEqualTo(V.get(n + ".account_id_utf8"));

    byte[] salt = CustomTokenKdf.salt(accountId);
    assertThat(HEX.encode(salt)).isEqualTo(V.get(n + ".salt"));
    byte[] stretched = CustomTokenKdf.stretch(token, salt);
    assertThat(HEX.encode(stretched)).isEqualTo(V.get(n + ".argon2id"));
    assertThat(CustomTokenKdf.publicId(stretched)).isEqualTo(V.get(n + ".public_id"));
    assertThat(HEX.encode(CustomTokenKdf.tokenKey(stretched, accountId))).isEqualTo(V.get(n + ".token_key"));
  }

  @ParameterizedTest
  @ValueSource(strings = {"1", "2", "3"})
  void delegateToken_credentialMatches(String n) {
    DelegateToken token = DelegateToken.parse("vector " + n, V.get(n + ".token"));
    TokenCredential credential = token.credential(V.get(n + ".account_id"));

    assertThat(token.isGenerated()).isFalse();
    assertThat(credential.publicId()).isEqualTo(V.get(n + ".public_id"));
    assertThat(HEX.encode(credential.key())).isEqualTo(V.get(n + ".token_key"));
  }

  @Test
  void theSameValueInAnotherAccount_hasAnUnrelatedIdAndKey() {
    assertThat(V.get("2.token")).isEqualTo(V.get("1.token"));
    assertThat(V.get("2.account_id")).isNotEqualTo(V.get("1.account_id"));
    assertThat(V.get("2.public_id")).isNotEqualTo(V.get("1.public_id"));
    assertThat(V.get("2.token_key")).isNotEqualTo(V.get("1.token_key"));
  }
}
