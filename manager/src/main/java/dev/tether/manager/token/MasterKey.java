package dev.tether.manager.token;

import static java.nio.charset.StandardCharsets.UTF_8;

import com.google.common.io.BaseEncoding;
import dev.tether.common.files.PrivateFiles;
import dev.tether.common.handshake.HandshakeCrypto;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.util.Arrays;
import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import org.bouncycastle.crypto.digests.SHA256Digest;
import org.bouncycastle.crypto.generators.HKDFBytesGenerator;
import org.bouncycastle.crypto.params.HKDFParameters;

/**
 * The manager's master key, kept in a 0600 file outside the database. Each use has a key of its
 * own, derived from the file's key with HKDF-SHA256 (salt "tether/v1 master key", info the
 * purpose): one seals every token key (AES-256-GCM, with the account and token id as associated
 * data) so that a copy of the database alone is useless; one derives the decoy keys used for
 * unknown tokens; others key what callers ask for ({@link #subkey}).
 *
 * <p>A sealed key starts with a version byte, so that the scheme can change again: version 1 is
 * {@code 0x01 || nonce || AES-256-GCM(sealing subkey)}. Keys sealed before version 1 (under the
 * file's key itself, without a version byte) still open, and are re-sealed at start
 * ({@link TokenService#resealLegacyKeys}).
 */
public final class MasterKey {

  /** File name of the master key inside the data directory. */
  public static final String FILE_NAME = "master.key";

  /** What the file holds, for the message that refuses it when other users can read it. */
  private static final String HOLDS = "the master key, which unseals every token key stored in the database";
  private static final BaseEncoding BASE64 = BaseEncoding.base64();
  private static final int GCM_NONCE_BYTES = 12;
  private static final int GCM_TAG_BITS = 128;

  private static final byte SEALED_V1 = 0x01;
  private static final int LEGACY_SEALED_BYTES = GCM_NONCE_BYTES + HandshakeCrypto.KEY_BYTES + GCM_TAG_BITS / 8;
  private static final byte[] SUBKEY_SALT = "tether/v1 master key".getBytes(UTF_8);

  /** The file's key: only ever the input of the subkeys below (and of legacy sealed keys). */
  private final byte[] key;
  private final byte[] sealing;
  private final byte[] decoy;

  private MasterKey(byte[] key) {
    this.key = key;
    this.sealing = derive(key, "token key sealing");
    this.decoy = derive(key, "decoy token keys");
  }

  private static byte[] derive(byte[] key, String purpose) {
    HKDFBytesGenerator hkdf = new HKDFBytesGenerator(new SHA256Digest());
    hkdf.init(new HKDFParameters(key, SUBKEY_SALT, purpose.getBytes(UTF_8)));
    byte[] out = new byte[HandshakeCrypto.KEY_BYTES];
    hkdf.generateBytes(out, 0, out.length);
    return out;
  }

  /** A master key that lives only in memory (tests, benchmarks). */
  public static MasterKey ephemeral() {
    return new MasterKey(HandshakeCrypto.randomBytes(32));
  }

  /**
   * Loads the key from {@code file}, creating it on first start. The file is written atomically
   * (never empty or half-written, even after a crash) and is refused if other users can read it.
   */
  public static MasterKey loadOrCreate(Path file) {
    try {
      if (!Files.exists(file)) {
        byte[] fresh = HandshakeCrypto.randomBytes(32);
        if (PrivateFiles.createFile(file, (BASE64.encode(fresh) + "\n").getBytes(UTF_8))) {
          return new MasterKey(fresh);
        }
        // another process created it between our check and create: read theirs
      }
      String text = new String(PrivateFiles.readPrivate(file, HOLDS), UTF_8).strip();
      if (text.isEmpty()) {
        throw new IllegalStateException("master key file " + PrivateFiles.quote(file) + " is empty: an"
            + " older version was interrupted while creating it. If no token was ever created with this"
            + " data directory, delete the file and start again to generate a new key; otherwise restore"
            + " it from backup (without it no stored token can be verified)");
      }
      byte[] bytes;
      try {
        bytes = BASE64.decode(text);
      } catch (IllegalArgumentException e) {
        throw new IllegalStateException("master key file " + PrivateFiles.quote(file) + " is corrupt: not base64"
            + " (restore it from backup; without it no stored token can be verified)");
      }
      if (bytes.length != 32) {
        throw new IllegalStateException("master key file " + PrivateFiles.quote(file) + " is corrupt: "
            + bytes.length + " bytes, expected 32 (restore it from backup)");
      }
      return new MasterKey(bytes);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read or create master key file " + file, e);
    }
  }

  /** Seals a token key (version 1); the result is safe to store. */
  public String seal(byte[] tokenKey, String accountId, String tokenPublicId) {
    byte[] nonce = HandshakeCrypto.randomBytes(GCM_NONCE_BYTES);
    byte[] sealed = cipher(Cipher.ENCRYPT_MODE, sealing, nonce, aad(SEALED_V1, accountId, tokenPublicId), tokenKey,
        tokenPublicId);
    return BASE64.encode(ByteBuffer.allocate(1 + nonce.length + sealed.length).put(SEALED_V1).put(nonce).put(sealed)
        .array());
  }

  /**
   * Opens a sealed token key, of version 1 or sealed before it; fails (IllegalStateException) if
   * it was sealed under another master key or for another token.
   */
  public byte[] open(String sealedKey, String accountId, String tokenPublicId) {
    byte[] blob = BASE64.decode(sealedKey);
    if (blob.length == LEGACY_SEALED_BYTES) {
      byte[] nonce = Arrays.copyOf(blob, GCM_NONCE_BYTES);
      return cipher(Cipher.DECRYPT_MODE, key, nonce, (accountId + "\0" + tokenPublicId).getBytes(UTF_8),
          Arrays.copyOfRange(blob, GCM_NONCE_BYTES, blob.length), tokenPublicId);
    }
    if (blob.length == LEGACY_SEALED_BYTES + 1 && blob[0] == SEALED_V1) {
      byte[] nonce = Arrays.copyOfRange(blob, 1, 1 + GCM_NONCE_BYTES);
      return cipher(Cipher.DECRYPT_MODE, sealing, nonce, aad(SEALED_V1, accountId, tokenPublicId),
          Arrays.copyOfRange(blob, 1 + GCM_NONCE_BYTES, blob.length), tokenPublicId);
    }
    throw new IllegalStateException("sealed key of token " + tokenPublicId + " has an unknown format ("
        + blob.length + " bytes, version byte " + (blob.length == 0 ? "none" : blob[0]) + ")");
  }

  /** Whether {@code sealedKey} was sealed before version 1 and should be sealed again. */
  public boolean isLegacy(String sealedKey) {
    return BASE64.decode(sealedKey).length == LEGACY_SEALED_BYTES;
  }

  /** A stable key for a token that does not exist, so that the manager's answer looks the same. */
  public byte[] decoyKey(String accountId, String tokenPublicId) {
    return HandshakeCrypto.hmac(decoy, (accountId + "\0" + tokenPublicId).getBytes(UTF_8));
  }

  /** A key for one purpose inside the manager, derived from the master key (HKDF, info = purpose). */
  public byte[] subkey(String purpose) {
    if (purpose.equals("token key sealing") || purpose.equals("decoy token keys")) {
      throw new IllegalArgumentException("subkey '" + purpose + "' is reserved");
    }
    return derive(key, purpose);
  }

  private static byte[] aad(byte version, String accountId, String tokenPublicId) {
    return ("tether sealed key v" + version + "\0" + accountId + "\0" + tokenPublicId).getBytes(UTF_8);
  }

  private static byte[] cipher(int mode, byte[] key, byte[] nonce, byte[] aad, byte[] input, String tokenPublicId) {
    try {
      Cipher cipher = Cipher.getInstance("AES/GCM/NoPadding");
      cipher.init(mode, new SecretKeySpec(key, "AES"), new GCMParameterSpec(GCM_TAG_BITS, nonce));
      cipher.updateAAD(aad);
      return cipher.doFinal(input);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("cannot open sealed key of token " + tokenPublicId
          + " (wrong master key file?)", e);
    }
  }

  @Override
  public String toString() {
    return "MasterKey[redacted]";
  }
}
