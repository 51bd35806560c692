package dev.tether.common.handshake;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.common.io.BaseEncoding;
import dev.tether.common.token.DelegateToken;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Checks the sealing of a successor token against the rotation vectors of docs/protocol.md, read from
 * the document itself, and that a sealed successor opens nowhere but where it was sent.
 */
class RotationVectorsTest {

  private static final BaseEncoding HEX = BaseEncoding.base16().lowerCase();
  private static final Map<String, String> V = new LinkedHashMap<>();

  @BeforeAll
  static void readVectors() throws Exception {
    V.putAll(DocVectors.read("rotation-vectors"));
    assertThat(V).containsKeys("session_key", "session_id", "rotation_id", "successor", "successor_token_id",
        "nonce", "rotation_key", "associated_data", "sealed_successor");
  }

  @Test
  void successor_isAWellFormedTokenWithThePublicIdSent() {
    DelegateToken successor = DelegateToken.parse("vector", V.get("successor"));
    assertThat(successor.publicId()).isEqualTo(V.get("successor_token_id"));
  }

  @Test
  void keyAssociatedDataAndSeal_match() {
    assertThat(hex(RotationCrypto.rotationKey(b("session_key"), b("session_id")))).isEqualTo(V.get("rotation_key"));
    assertThat(hex(RotationCrypto.associatedData(b("session_id"), V.get("rotation_id"), V.get("successor_token_id"))))
        .isEqualTo(V.get("associated_data"));
    byte[] sealed = RotationCrypto.seal(b("session_key"), b("session_id"), V.get("rotation_id"),
        V.get("successor_token_id"), V.get("successor").getBytes(StandardCharsets.UTF_8), b("nonce"));
    assertThat(hex(sealed)).isEqualTo(V.get("sealed_successor"));
  }

  @Test
  void open_givesTheSuccessorBack() throws Exception {
    byte[] opened = RotationCrypto.open(b("session_key"), b("session_id"), V.get("rotation_id"),
        V.get("successor_token_id"), b("sealed_successor"));
    assertThat(new String(opened, StandardCharsets.UTF_8)).isEqualTo(V.get("successor"));
  }

  @Test
  void open_refusesAnotherSessionRotationOrPublicId_andAnyAlteredByte() {
    byte[] otherSession = b("session_id").clone();
    otherSession[0] ^= 1;
    byte[] otherKey = b("session_key").clone();
    otherKey[31] ^= 1;
    assertRefused(() -> RotationCrypto.open(b("session_key"), otherSession, V.get("rotation_id"),
        V.get("successor_token_id"), b("sealed_successor")));
    assertRefused(() -> RotationCrypto.open(otherKey, b("session_id"), V.get("rotation_id"),
        V.get("successor_token_id"), b("sealed_successor")));
    assertRefused(() -> RotationCrypto.open(b("session_key"), b("session_id"), "rot_ffffffffffffffffffffffffffffffff",
        V.get("successor_token_id"), b("sealed_successor")));
    assertRefused(() -> RotationCrypto.open(b("session_key"), b("session_id"), V.get("rotation_id"),
        "tid_aaaaaaaaaaaaaaaa", b("sealed_successor")));
    byte[] sealed = b("sealed_successor");
    for (int i = 0; i < sealed.length; i++) {
      byte[] altered = sealed.clone();
      altered[i] ^= 0x01;
      assertRefused(() -> RotationCrypto.open(b("session_key"), b("session_id"), V.get("rotation_id"),
          V.get("successor_token_id"), altered));
    }
    assertRefused(() -> RotationCrypto.open(b("session_key"), b("session_id"), V.get("rotation_id"),
        V.get("successor_token_id"), new byte[27]));
  }

  private interface Opening {
    byte[] open() throws GeneralSecurityException;
  }

  private static void assertRefused(Opening opening) {
    assertThatThrownBy(opening::open).isInstanceOf(GeneralSecurityException.class);
  }

  private static byte[] b(String name) {
    return HEX.decode(V.get(name));
  }

  private static String hex(byte[] bytes) {
    return HEX.encode(bytes);
  }
}
