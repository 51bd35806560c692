package dev.tether.manager.token;

import static java.nio.charset.StandardCharsets.US_ASCII;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.common.io.BaseEncoding;
import com.google.protobuf.ByteString;
import dev.tether.common.handshake.HandshakeCrypto;
import dev.tether.common.handshake.Transcript;
import dev.tether.common.testing.TokenLedger;
import dev.tether.common.token.DelegateToken;
import dev.tether.delegate.connect.EstablishedSession;
import dev.tether.delegate.connect.StreamClient;
import dev.tether.manager.store.JdbcStore;
import dev.tether.manager.store.TetherStore;
import dev.tether.manager.store.TokenRecord;
import dev.tether.manager.testing.ManagerFixture;
import dev.tether.manager.testing.RawHandshake;
import dev.tether.manager.server.ManagerSettings;
import dev.tether.proto.delegate.v1.Begin;
import dev.tether.proto.delegate.v1.Challenge;
import dev.tether.proto.delegate.v1.DelegateAuthGrpc;
import dev.tether.proto.delegate.v1.HandshakeRequest;
import dev.tether.proto.delegate.v1.HandshakeResponse;
import dev.tether.proto.delegate.v1.Register;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.HexFormat;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Tether issue 11, finding 3: imported custom tokens could be cracked offline from their public id
 * (a fast SHA-256 of the value) and from a recorded server proof. Now weak values are refused, and
 * nothing the manager stores or shows can check a guess without an Argon2id evaluation.
 */
class CustomTokenImportTest {

  private static final SecureRandom RANDOM = new SecureRandom();
  private static final BaseEncoding BASE32 = BaseEncoding.base32().lowerCase().omitPadding();

  @TempDir Path dataDir;
  private ManagerFixture fixture;
  private TetherStore store;
  private TokenService tokens;
  private CreatedAccount acme;
  private CreatedAccount other;

  @BeforeEach
  void start() {
    fixture = new ManagerFixture(dataDir, ManagerSettings.defaults(), s -> store = s);
    tokens = fixture.manager().tokens();
    acme = fixture.account("acme");
    other = fixture.account("other");
  }

  @AfterEach
  void stop() {
    fixture.close();
  }

  /** The four values the attacker of issue 11 had imported, then recovered from their ids in 52 s. */
  @ParameterizedTest
  @ValueSource(strings = {"abcdefghijklmnopqrstuvwxyz0123456789", "qwertyuiopasdfghjklzxcvbnm1234567890",
      "Tether-Prod-Delegate-Token-2025!", "ACME-kubernetes-delegate-secret-2024"})
  void import_refusesValuesThatAreEasyToGuess(String value) {
    TokenLedger.record(DelegateToken.parse("test", value));

    assertThatThrownBy(() -> tokens.createToken(acme.account().id(), "weak", "test", null, value))
        .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
          assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
          assertThat(e.getStatus().getDescription())
              .startsWith("imported token value is too easy to guess: zxcvbn estimates about ")
              .contains("expected at least 128 bits. Use 'token create'")
              .doesNotContain(value);
        });
    assertThat(tokens.listTokens(acme.account().id())).extracting(TokenRecord::name).containsExactly("default");
  }

  @Test
  void import_acceptsALongRandomValue_andItsIdAndKeyAreTheArgon2DerivationNotTheFastHash() throws Exception {
    String value = randomValue();
    DelegateToken token = TokenLedger.record(DelegateToken.parse("test", value));
    String accountId = acme.account().id();

    TokenRecord record = tokens.createToken(accountId, "legacy", "test", null, value).record();

    byte[] t = value.getBytes(US_ASCII);
    assertThat(record.publicId()).isEqualTo(token.credential(accountId).publicId())
        .isNotEqualTo(fastPublicId(t));
    MasterKey masterKey = MasterKey.loadOrCreate(dataDir.resolve(MasterKey.FILE_NAME));
    byte[] storedKey = masterKey.open(record.sealedKey(), accountId, record.publicId());
    assertThat(storedKey).isEqualTo(token.credential(accountId).key())
        .isNotEqualTo(HandshakeCrypto.tokenKey(t, accountId));
    // the stored fingerprint, even with the master key, is over an Argon2id output, not over the value
    byte[] fingerprintKey = masterKey.subkey(TokenService.FINGERPRINT_PURPOSE);
    String stored = storedFingerprint(record.id());
    assertThat(stored).isEqualTo(HexFormat.of().formatHex(token.fingerprint(fingerprintKey)))
        .isNotEqualTo(HexFormat.of().formatHex(HandshakeCrypto.hmac(fingerprintKey, t)))
        .isNotEqualTo(HexFormat.of().formatHex(HandshakeCrypto.sha256(t)));
  }

  @Test
  void theSameValue_isRefusedInAnyOtherAccountOrToken_namingTheTokenThatHasIt() {
    String value = randomValue();
    TokenLedger.record(DelegateToken.parse("test", value));
    tokens.createToken(acme.account().id(), "legacy", "test", null, value);

    for (String[] target : new String[][] {{other.account().id(), "legacy"}, {acme.account().id(), "legacy-2"}}) {
      assertThatThrownBy(() -> tokens.createToken(target[0], target[1], "test", null, value))
          .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
            assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.ALREADY_EXISTS);
            assertThat(e.getStatus().getDescription()).isEqualTo("this token value is already used by token"
                + " 'legacy' of account '" + acme.account().id() + "': one value serves one token only (use"
                + " 'token create', or import another value)");
          });
    }
    assertThat(tokens.listTokens(other.account().id())).extracting(TokenRecord::name).containsExactly("default");

  }

  /**
   * Found by the attacker's review: a password hashed into the tdt_ shape (SHA-256 of "winter2024"
   * with a valid checksum) looked random to zxcvbn, was imported, got the fast public id, and was
   * recovered from it in 2.6 s. No value of the generated form is imported, crafted or copied.
   */
  @Test
  void aValueOfTheGeneratedForm_isNeverImported() throws Exception {
    byte[] secret = java.security.MessageDigest.getInstance("SHA-256")
        .digest("winter2024".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
    java.util.zip.CRC32 crc = new java.util.zip.CRC32();
    crc.update(secret);
    String crafted = "tdt_" + com.google.common.io.BaseEncoding.base32().lowerCase().omitPadding().encode(
        java.nio.ByteBuffer.allocate(36).put(secret).putInt((int) crc.getValue()).array());
    TokenLedger.record(DelegateToken.parse("crafted", crafted));
    String copied = acme.defaultToken().value().reveal();
    for (String value : new String[] {crafted, copied}) {
      assertThatThrownBy(() -> tokens.createToken(other.account().id(), "copied", "test", null, value))
          .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
            assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
            assertThat(e.getStatus().getDescription()).contains("has the form of a generated token ('tdt_...'),"
                + " which cannot be imported").doesNotContain(value);
          });
    }
    assertThat(tokens.listTokens(other.account().id())).extracting(TokenRecord::name).containsExactly("default");
  }

  @Test
  void aDelegateHandshakesWithAnImportedCustomToken_underItsArgon2Id() throws Exception {
    String value = randomValue();
    DelegateToken token = TokenLedger.record(DelegateToken.parse("DELEGATE_TOKEN", value));
    String accountId = other.account().id();
    TokenRecord record = tokens.createToken(accountId, "legacy", "test", null, value).record();

    EstablishedSession session = fixture.handshake(accountId, token, "builder-1");

    assertThat(session.tokenPublicId()).isEqualTo(record.publicId()).isNotEqualTo(fastPublicId(value.getBytes(US_ASCII)));
    StreamClient client = StreamClient.open(fixture.channel(), session, Register.newBuilder().setHostname("h")
        .setDelegateType("SHELL_SCRIPT").setVersion("test").build());
    try {
      assertThat(client.registered().get(10, TimeUnit.SECONDS).getDelegateId()).startsWith("dlg_");
    } finally {
      client.close();
    }
  }

  @Test
  void aRecordedServerProofChecksAGuessOnlyThroughArgon2() throws Exception {
    String value = randomValue();
    DelegateToken token = TokenLedger.record(DelegateToken.parse("test", value));
    String accountId = acme.account().id();
    String publicId = tokens.createToken(accountId, "legacy", "test", null, value).record().publicId();

    // what anyone who can reach the manager gets for the public id: a Challenge, before proving anything
    Begin begin = RawHandshake.begin(accountId, publicId);
    BlockingQueue<Object> events = new LinkedBlockingQueue<>();
    var requests = DelegateAuthGrpc.newStub(fixture.channel()).handshake(RawHandshake.collector(events));
    requests.onNext(HandshakeRequest.newBuilder().setBegin(begin).build());
    Object reply = events.poll(10, TimeUnit.SECONDS);
    assertThat(reply).isInstanceOf(HandshakeResponse.class);
    Challenge challenge = ((HandshakeResponse) reply).getChallenge();
    requests.onError(Status.CANCELLED.asException());
    byte[] h = new Transcript(begin.getProtocolVersion(), accountId, publicId, begin.getDelegateName(),
        begin.getClientNonce().toByteArray(), challenge.getServerNonce().toByteArray(), new byte[0]).hash();
    ByteString proof = challenge.getServerProof();

    byte[] fastKey = HandshakeCrypto.tokenKey(value.getBytes(US_ASCII), accountId);
    assertThat(ByteString.copyFrom(HandshakeCrypto.serverProof(fastKey, h))).as("the fast key").isNotEqualTo(proof);
    byte[] argon2Key = token.credential(accountId).key();
    assertThat(ByteString.copyFrom(HandshakeCrypto.serverProof(argon2Key, h))).as("the Argon2id key").isEqualTo(proof);
  }

  private String storedFingerprint(long tokenId) throws Exception {
    try (Connection c = ((JdbcStore) store).dataSource().getConnection();
        PreparedStatement ps = c.prepareStatement("SELECT value_fingerprint FROM tokens WHERE id = ?")) {
      ps.setLong(1, tokenId);
      try (ResultSet rs = ps.executeQuery()) {
        assertThat(rs.next()).isTrue();
        return rs.getString(1);
      }
    }
  }

  /** 64 random hex digits: what 'openssl rand -hex 32' gives. */
  private static String randomValue() {
    byte[] bytes = new byte[32];
    RANDOM.nextBytes(bytes);
    return HexFormat.of().formatHex(bytes);
  }

  /** The public id custom tokens had before: "tid_" || base32(SHA-256("tether/v1 token id" || T)[0..10]). */
  static String fastPublicId(byte[] t) {
    byte[] label = "tether/v1 token id".getBytes(US_ASCII);
    byte[] input = new byte[label.length + t.length];
    System.arraycopy(label, 0, input, 0, label.length);
    System.arraycopy(t, 0, input, label.length, t.length);
    return "tid_" + BASE32.encode(HandshakeCrypto.sha256(input), 0, 10);
  }
}
