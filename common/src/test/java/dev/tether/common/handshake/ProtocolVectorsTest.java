package dev.tether.common.handshake;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.common.io.BaseEncoding;
import dev.tether.common.token.DelegateToken;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Checks the implementation against the test vectors printed in docs/protocol.md, read from the
 * document itself so that the two cannot drift apart.
 */
class ProtocolVectorsTest {

  private static final BaseEncoding HEX = BaseEncoding.base16().lowerCase();
  private static final Map<String, String> V = new LinkedHashMap<>();

  @BeforeAll
  static void readVectors() throws Exception {
    V.putAll(DocVectors.read("vectors"));
    assertThat(V).containsKeys("token", "public_id", "token_key", "tls.call_mac", "plaintext.call_mac");
  }

  @Test
  void token_isTheCanonicalEncodingOfTheSecretAndItsChecksum() {
    DelegateToken token = DelegateToken.parse("vector", V.get("token"));
    assertThat(token.publicId()).isEqualTo(V.get("public_id"));
    assertThat(token.reveal()).isEqualTo(V.get("token"));
  }

  @Test
  void tokenKey_matches() {
    assertThat(hex(HandshakeCrypto.tokenKey(tokenBytes(), V.get("account_id")))).isEqualTo(V.get("token_key"));
  }

  @Test
  void plaintextHandshake_matches() {
    check("plaintext", new byte[0]);
  }

  @Test
  void tlsBoundHandshake_matches() {
    byte[] binding = HandshakeCrypto.channelBinding(V.get("tls.certificate_der_ascii").getBytes(StandardCharsets.US_ASCII));
    assertThat(hex(binding)).isEqualTo(V.get("tls.channel_binding"));
    check("tls", binding);
  }

  private void check(String prefix, byte[] binding) {
    byte[] key = HandshakeCrypto.tokenKey(tokenBytes(), V.get("account_id"));
    byte[] h = new Transcript(1, V.get("account_id"), V.get("public_id"), V.get("delegate_name"),
        HEX.decode(V.get("client_nonce")), HEX.decode(V.get("server_nonce")), binding).hash();
    assertThat(hex(h)).isEqualTo(V.get(prefix + ".transcript_hash"));
    assertThat(hex(HandshakeCrypto.serverProof(key, h))).isEqualTo(V.get(prefix + ".server_proof"));
    assertThat(hex(HandshakeCrypto.clientProof(key, h))).isEqualTo(V.get(prefix + ".client_proof"));
    byte[] session = HandshakeCrypto.sessionKey(key, h);
    assertThat(hex(session)).isEqualTo(V.get(prefix + ".session_key"));
    for (String[] call : new String[][] {{"call_seq", ".call_mac"}, {"call_seq_high", ".call_mac_high_seq"}}) {
      byte[] mac = HandshakeCrypto.callMac(session, HEX.decode(V.get("session_id")),
          Long.parseUnsignedLong(V.get(call[0])), V.get("call_method"), binding);
      assertThat(hex(mac)).as(prefix + call[1]).isEqualTo(V.get(prefix + call[1]));
      assertThat(SessionMetadata.BASE64URL.encode(mac)).isEqualTo(V.get(prefix + call[1] + "_metadata"));
    }
  }

  @Test
  void multiByteDelegateName_isLengthPrefixedByItsUtf8Bytes() {
    String name = V.get("utf8.delegate_name");
    assertThat(hex(name.getBytes(StandardCharsets.UTF_8))).isEqualTo(V.get("utf8.delegate_name_hex"));
    byte[] binding = HandshakeCrypto.channelBinding(V.get("tls.certificate_der_ascii").getBytes(StandardCharsets.US_ASCII));
    byte[] key = HandshakeCrypto.tokenKey(tokenBytes(), V.get("account_id"));
    byte[] h = new Transcript(1, V.get("account_id"), V.get("public_id"), name,
        HEX.decode(V.get("client_nonce")), HEX.decode(V.get("server_nonce")), binding).hash();
    assertThat(hex(h)).isEqualTo(V.get("utf8.transcript_hash"));
    assertThat(hex(HandshakeCrypto.serverProof(key, h))).isEqualTo(V.get("utf8.server_proof"));
  }

  private static byte[] tokenBytes() {
    return V.get("token").getBytes(StandardCharsets.US_ASCII);
  }

  private static String hex(byte[] bytes) {
    return HEX.encode(bytes);
  }
}
