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
import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * The manager's master key, kept in a 0600 file outside the database. It seals every token key
 * (AES-256-GCM, with the account and token id as associated data) so that a copy of the database
 * alone is useless. It also derives the decoy keys used for unknown tokens.
 */
public final class MasterKey {

  /** File name of the master key inside the data directory. */
  public static final String FILE_NAME = "master.key";

  /** What the file holds, for the message that refuses it when other users can read it. */
  private static final String HOLDS = "the master key, which unseals every token key stored in the database";
  private static final BaseEncoding BASE64 = BaseEncoding.base64();
  private static final int GCM_NONCE_BYTES = 12;
  private static final int GCM_TAG_BITS = 128;

  private final byte[] key;

  private MasterKey(byte[] key) {
    this.key = key;
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

  /** Seals a token key; the result is safe to store. */
  public String seal(byte[] tokenKey, String accountId, String tokenPublicId) {
    byte[] nonce = HandshakeCrypto.randomBytes(GCM_NONCE_BYTES);
    byte[] sealed = cipher(Cipher.ENCRYPT_MODE, nonce, accountId, tokenPublicId, tokenKey);
    return BASE64.encode(ByteBuffer.allocate(nonce.length + sealed.length).put(nonce).put(sealed).array());
  }

  /** Opens a sealed token key; fails if it was sealed under another key or for another token. */
  public byte[] open(String sealedKey, String accountId, String tokenPublicId) {
    byte[] blob = BASE64.decode(sealedKey);
    byte[] nonce = java.util.Arrays.copyOf(blob, GCM_NONCE_BYTES);
    byte[] sealed = java.util.Arrays.copyOfRange(blob, GCM_NONCE_BYTES, blob.length);
    return cipher(Cipher.DECRYPT_MODE, nonce, accountId, tokenPublicId, sealed);
  }

  /** A stable key for a token that does not exist, so that the manager's answer looks the same. */
  public byte[] decoyKey(String accountId, String tokenPublicId) {
    return HandshakeCrypto.hmac(key, ("decoy\0" + accountId + "\0" + tokenPublicId).getBytes(UTF_8));
  }

  /**
   * A key for one purpose inside the manager, derived from the master key: HMAC(master key,
   * "subkey" || 0x00 || purpose). Distinct from every decoy key, whose input starts "decoy".
   */
  public byte[] subkey(String purpose) {
    return HandshakeCrypto.hmac(key, ("subkey\0" + purpose).getBytes(UTF_8));
  }

  private byte[] cipher(int mode, byte[] nonce, String accountId, String tokenPublicId, byte[] input) {
    try {
      Cipher cipher = Cipher.getInstance("AES/GCM/NoPadding");
      cipher.init(mode, new SecretKeySpec(key, "AES"), new GCMParameterSpec(GCM_TAG_BITS, nonce));
      cipher.updateAAD((accountId + "\0" + tokenPublicId).getBytes(UTF_8));
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
