package dev.tether.manager.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.common.base.Ticker;
import dev.tether.common.handshake.HandshakeCrypto;
import dev.tether.common.handshake.SessionMetadata;
import java.time.Duration;
import java.util.HexFormat;
import org.junit.jupiter.api.Test;

class SessionIdTest {

  private static final byte[] BYTES = HexFormat.of().parseHex("606162636465666768696a6b6c6d6e6f");

  @Test
  void anIdIsFoundByItsOneTextAndGivesBackItsBytes() {
    SessionId id = SessionId.of(BYTES);
    String text = SessionMetadata.BASE64URL.encode(BYTES);

    assertThat(id.text()).isEqualTo(text);
    assertThat(id.bytes()).isEqualTo(BYTES);
    assertThat(SessionId.parse(text)).isEqualTo(id);
  }

  @Test
  void everyOtherTextOfTheSameBytesOrOfNoIdFindsNothing() {
    String text = SessionMetadata.BASE64URL.encode(BYTES);
    char last = text.charAt(text.length() - 1);
    // the last character carries 2 bits of the id and 4 unused bits: another value of those is another text
    String otherUnusedBits = text.substring(0, text.length() - 1) + (char) (last + 1);

    assertThat(SessionId.parse(text + "==")).as("padded").isNull();
    assertThat(SessionId.parse(otherUnusedBits)).as("same bytes, other unused bits").isNull();
    assertThat(SessionId.parse(text.substring(1))).as("too short").isNull();
    assertThat(SessionId.parse(text + "A")).as("too long").isNull();
    assertThat(SessionId.parse(text.replace(text.charAt(0), '+'))).as("base64, not base64url").isNull();
    assertThat(SessionId.parse("")).isNull();
  }

  @Test
  void anIdHasSixteenBytes() {
    assertThatThrownBy(() -> SessionId.of(new byte[15])).hasMessageContaining("16 bytes, not 15");
  }

  @Test
  void theRegistryFindsASessionByItsTextOnly() {
    SessionRegistry sessions = new SessionRegistry(Ticker.systemTicker(), Duration.ofMinutes(1), 48);
    Session session = sessions.create(HandshakeCrypto.randomBytes(32),
        new DelegateIdentity("acct", 3, "tid_aaaaaaaaaaaaaaaa", "default", "d"), 1L, "127.0.0.1");

    assertThat(sessions.find(session.id())).isSameAs(session);
    assertThat(SessionMetadata.BASE64URL.decode(session.id())).isEqualTo(session.sessionId());
    assertThat(sessions.find(session.id() + "==")).isNull();
    assertThat(sessions.find(SessionMetadata.BASE64URL.encode(HandshakeCrypto.randomBytes(16)))).isNull();
  }
}
