package dev.tether.manager.token;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.common.io.BaseEncoding;
import dev.tether.common.handshake.HandshakeCrypto;
import dev.tether.common.testing.TokenLedger;
import dev.tether.common.token.DelegateToken;
import dev.tether.manager.store.JdbcStore;
import dev.tether.manager.testing.ManagerFixture;
import dev.tether.manager.token.CreatedAccount;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The master key: one subkey per purpose, sealed keys with a version byte, and keys sealed by an
 * earlier version (under the file's key itself, no version byte) sealed again at start.
 */
class MasterKeyTest {

  private static final BaseEncoding BASE64 = BaseEncoding.base64();

  @TempDir Path dataDir;

  @Test
  void aSealedKey_carriesVersion1_andOpensOnlyForItsToken() {
    MasterKey master = MasterKey.ephemeral();
    byte[] tokenKey = HandshakeCrypto.randomBytes(32);

    String sealed = master.seal(tokenKey, "acct", "tid_aaaaaaaaaaaaaaaa");

    assertThat(BASE64.decode(sealed)[0]).as("version byte").isEqualTo((byte) 1);
    assertThat(master.isLegacy(sealed)).isFalse();
    assertThat(master.open(sealed, "acct", "tid_aaaaaaaaaaaaaaaa")).isEqualTo(tokenKey);
    assertThatThrownBy(() -> master.open(sealed, "acct", "tid_bbbbbbbbbbbbbbbb")).isInstanceOf(IllegalStateException.class);
    assertThatThrownBy(() -> MasterKey.ephemeral().open(sealed, "acct", "tid_aaaaaaaaaaaaaaaa"))
        .isInstanceOf(IllegalStateException.class).hasMessageContaining("wrong master key file");
  }

  /** Found by the review of the store layer: one key served both AES-GCM sealing and HMAC. */
  @Test
  void eachPurpose_hasAKeyOfItsOwn_andNoneIsTheFileKey() throws Exception {
    byte[] fileKey = HandshakeCrypto.randomBytes(32);
    MasterKey master = fromFile(fileKey);
    String sealed = master.seal(HandshakeCrypto.randomBytes(32), "acct", "tid_aaaaaaaaaaaaaaaa");
    byte[] blob = BASE64.decode(sealed);

    assertThatThrownBy(() -> gcmOpen(fileKey, java.util.Arrays.copyOfRange(blob, 1, 13),
        java.util.Arrays.copyOfRange(blob, 13, blob.length), "tether sealed key v1\0acct\0tid_aaaaaaaaaaaaaaaa"))
        .as("opened with the file's key itself").isInstanceOf(javax.crypto.AEADBadTagException.class);
    assertThat(master.subkey("token value fingerprint")).isNotEqualTo(master.subkey("another purpose"))
        .isNotEqualTo(fileKey);
    assertThat(master.decoyKey("acct", "tid_aaaaaaaaaaaaaaaa"))
        .isNotEqualTo(HandshakeCrypto.hmac(fileKey, "decoy\0acct\0tid_aaaaaaaaaaaaaaaa".getBytes(UTF_8)));
    assertThatThrownBy(() -> master.subkey("token key sealing")).isInstanceOf(IllegalArgumentException.class);
  }

  /** A data directory of an earlier version: its sealed keys are sealed again at start, and still work. */
  @Test
  void keysSealedByAnEarlierVersion_areSealedAgainAtStart_andTheirTokensStillAuthenticate() throws Exception {
    String accountId;
    DelegateToken token;
    try (ManagerFixture first = new ManagerFixture(dataDir)) {
      CreatedAccount account = first.account("acme");
      accountId = account.account().id();
      token = TokenLedger.record(account.defaultToken().value());
    }
    byte[] fileKey = BASE64.decode(Files.readString(dataDir.resolve(MasterKey.FILE_NAME)).strip());
    // rewrite the stored key as an earlier version sealed it: no version byte, the file's key, its AAD
    byte[] tokenKey = HandshakeCrypto.tokenKey(token.reveal().getBytes(UTF_8), accountId);
    byte[] nonce = HandshakeCrypto.randomBytes(12);
    byte[] legacy = ByteBuffer.allocate(60).put(nonce)
        .put(gcmSeal(fileKey, nonce, tokenKey, accountId + "\0" + token.publicId())).array();
    try (JdbcStore store = JdbcStore.open(JdbcStore.h2Url(dataDir), null, null);
        Connection c = store.dataSource().getConnection();
        PreparedStatement ps = c.prepareStatement("UPDATE tokens SET key_blob = ? WHERE public_id = ?")) {
      ps.setString(1, BASE64.encode(legacy));
      ps.setString(2, token.publicId());
      assertThat(ps.executeUpdate()).isEqualTo(1);
    }

    try (ManagerFixture second = new ManagerFixture(dataDir)) {
      String stored = second.manager().store().findTokenByPublicId(accountId, token.publicId()).orElseThrow().sealedKey();
      assertThat(BASE64.decode(stored)[0]).as("sealed again with version 1").isEqualTo((byte) 1);
      assertThat(second.handshake(accountId, token, "after-upgrade").tokenPublicId()).isEqualTo(token.publicId());
    }
  }

  /**
   * Found by the review of the store layer: a sealed key that the master key could not open threw
   * an IllegalStateException out of the handshake, which the delegate saw as UNKNOWN. It is the
   * generic refusal now, and the manager logs why.
   */
  @Test
  void aSealedKeyThatCannotBeOpened_refusesTheHandshakeWithTheGenericStatus() throws Exception {
    String accountId;
    DelegateToken token;
    try (ManagerFixture first = new ManagerFixture(dataDir)) {
      CreatedAccount account = first.account("acme");
      accountId = account.account().id();
      token = TokenLedger.record(account.defaultToken().value());
    }
    try (JdbcStore store = JdbcStore.open(JdbcStore.h2Url(dataDir), null, null);
        Connection c = store.dataSource().getConnection();
        PreparedStatement ps = c.prepareStatement("UPDATE tokens SET key_blob = ? WHERE public_id = ?")) {
      // sealed under another master key: the file was replaced, or the row comes from elsewhere
      ps.setString(1, MasterKey.ephemeral().seal(HandshakeCrypto.randomBytes(32), accountId, token.publicId()));
      ps.setString(2, token.publicId());
      assertThat(ps.executeUpdate()).isEqualTo(1);
    }
    try (ManagerFixture second = new ManagerFixture(dataDir)) {
      String account = accountId;
      DelegateToken value = token;
      io.grpc.Status status = dev.tether.manager.testing.RawHandshake.run(second.channel(),
          dev.tether.manager.testing.RawHandshake.begin(account, value.publicId()), value, false).status;
      assertThat(status.getCode()).isEqualTo(io.grpc.Status.Code.UNAUTHENTICATED);
      assertThat(status.getDescription()).isEqualTo("delegate authentication failed");
    }
  }

  private static MasterKey fromFile(byte[] fileKey) throws Exception {
    Path dir = Files.createTempDirectory("tether-master-key");
    Path file = dir.resolve(MasterKey.FILE_NAME);
    Files.writeString(file, BASE64.encode(fileKey) + "\n");
    Files.setPosixFilePermissions(file, java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
    Files.setPosixFilePermissions(dir, java.nio.file.attribute.PosixFilePermissions.fromString("rwx------"));
    return MasterKey.loadOrCreate(file);
  }

  private static byte[] gcmSeal(byte[] key, byte[] nonce, byte[] plain, String aad) throws Exception {
    Cipher cipher = Cipher.getInstance("AES/GCM/NoPadding");
    cipher.init(Cipher.ENCRYPT_MODE, new SecretKeySpec(key, "AES"), new GCMParameterSpec(128, nonce));
    cipher.updateAAD(aad.getBytes(UTF_8));
    return cipher.doFinal(plain);
  }

  private static byte[] gcmOpen(byte[] key, byte[] nonce, byte[] sealed, String aad) throws Exception {
    Cipher cipher = Cipher.getInstance("AES/GCM/NoPadding");
    cipher.init(Cipher.DECRYPT_MODE, new SecretKeySpec(key, "AES"), new GCMParameterSpec(128, nonce));
    cipher.updateAAD(aad.getBytes(UTF_8));
    return cipher.doFinal(sealed);
  }
}
