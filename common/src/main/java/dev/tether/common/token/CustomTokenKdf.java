package dev.tether.common.token;

import static java.nio.charset.StandardCharsets.US_ASCII;
import static java.nio.charset.StandardCharsets.UTF_8;

import com.google.common.io.BaseEncoding;
import dev.tether.common.handshake.HandshakeCrypto;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.util.concurrent.Semaphore;
import org.bouncycastle.crypto.digests.SHA256Digest;
import org.bouncycastle.crypto.generators.Argon2BytesGenerator;
import org.bouncycastle.crypto.generators.HKDFBytesGenerator;
import org.bouncycastle.crypto.params.Argon2Parameters;
import org.bouncycastle.crypto.params.HKDFParameters;

/**
 * The memory-hard derivation of a custom token's public id and key, byte for byte as
 * {@code docs/protocol.md} section 3.3 specifies it and checked against the vectors printed there.
 * Every way of checking a guessed custom value, against its public id, its key or a handshake
 * proof, goes through one Argon2id evaluation here.
 */
final class CustomTokenKdf {

  /** Argon2id parameters of protocol version 1; both sides must use exactly these. */
  static final int ARGON2_ITERATIONS = 3;
  static final int ARGON2_MEMORY_KIB = 64 * 1024;
  static final int ARGON2_PARALLELISM = 1;
  static final int ARGON2_TAG_BYTES = 32;

  static final byte[] SALT_LABEL = ascii("tether/v1 custom token");
  static final byte[] ID_SALT = ascii("tether/v1 custom token id");
  static final byte[] FINGERPRINT_SALT_LABEL = ascii("tether/v1 custom token fingerprint");
  static final byte[] FINGERPRINT_LABEL = ascii("tether/v1 token fingerprint");

  private static final BaseEncoding BASE32 = BaseEncoding.base32().lowerCase().omitPadding();

  /**
   * One evaluation at a time per process: each holds 64 MiB, and a manager importing tokens or a
   * test JVM running many delegates must not hold several of those at once.
   */
  private static final Semaphore ONE_AT_A_TIME = new Semaphore(1, true);

  private CustomTokenKdf() {}

  /** salt = SHA-256(lp("tether/v1 custom token") || lp(utf8(account id))). */
  static byte[] salt(String accountId) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(64);
    lp(out, SALT_LABEL);
    lp(out, accountId.getBytes(UTF_8));
    return HandshakeCrypto.sha256(out.toByteArray());
  }

  /** M = Argon2id(password = token bytes, salt, t = 3, m = 64 MiB, p = 1), 32 bytes. */
  static byte[] stretch(byte[] tokenBytes, byte[] salt) {
    Argon2Parameters parameters = new Argon2Parameters.Builder(Argon2Parameters.ARGON2_id)
        .withVersion(Argon2Parameters.ARGON2_VERSION_13)
        .withIterations(ARGON2_ITERATIONS)
        .withMemoryAsKB(ARGON2_MEMORY_KIB)
        .withParallelism(ARGON2_PARALLELISM)
        .withSalt(salt)
        .build();
    byte[] out = new byte[ARGON2_TAG_BYTES];
    ONE_AT_A_TIME.acquireUninterruptibly();
    try {
      Argon2BytesGenerator argon2 = new Argon2BytesGenerator();
      argon2.init(parameters);
      argon2.generateBytes(tokenBytes, out);
    } finally {
      ONE_AT_A_TIME.release();
    }
    return out;
  }

  /** public id = "tid_" || base32(HKDF(salt = "tether/v1 custom token id", IKM = M, info = empty)[0..10]). */
  static String publicId(byte[] stretched) {
    return DelegateToken.ID_PREFIX + BASE32.encode(hkdf(stretched, ID_SALT, new byte[0]), 0, 10);
  }

  /** K = HKDF(salt = "tether/v1 token key", IKM = M, info = utf8(account id)): the generated-token formula over M. */
  static byte[] tokenKey(byte[] stretched, String accountId) {
    return HandshakeCrypto.tokenKey(stretched, accountId);
  }

  /** The account-bound credential of a custom token: one Argon2id evaluation. */
  static TokenCredential credential(byte[] tokenBytes, String accountId) {
    byte[] stretched = stretch(tokenBytes, salt(accountId));
    return new TokenCredential(publicId(stretched), tokenKey(stretched, accountId));
  }

  /**
   * The manager's duplicate check: HMAC(fingerprint key, lp("tether/v1 token fingerprint") ||
   * Argon2id(T, salt = SHA-256(lp("tether/v1 custom token fingerprint")))). The salt is the same
   * for every account, so one value gives one fingerprint wherever it is imported; the key comes
   * from the master key, so the stored fingerprint is no oracle without it, and with it still
   * costs an Argon2id evaluation per guess.
   */
  static byte[] fingerprint(byte[] tokenBytes, byte[] fingerprintKey) {
    ByteArrayOutputStream salt = new ByteArrayOutputStream(64);
    lp(salt, FINGERPRINT_SALT_LABEL);
    return fingerprintMac(fingerprintKey, stretch(tokenBytes, HandshakeCrypto.sha256(salt.toByteArray())));
  }

  /**
   * HMAC(key, lp("tether/v1 token fingerprint") || input); the input is the 32-byte Argon2id output
   * of a custom token or the 62 bytes of a generated one, so the two kinds never share an input.
   */
  static byte[] fingerprintMac(byte[] key, byte[] input) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(80);
    lp(out, FINGERPRINT_LABEL);
    out.writeBytes(input);
    return HandshakeCrypto.hmac(key, out.toByteArray());
  }

  private static byte[] hkdf(byte[] ikm, byte[] salt, byte[] info) {
    HKDFBytesGenerator hkdf = new HKDFBytesGenerator(new SHA256Digest());
    hkdf.init(new HKDFParameters(ikm, salt, info));
    byte[] out = new byte[HandshakeCrypto.KEY_BYTES];
    hkdf.generateBytes(out, 0, out.length);
    return out;
  }

  private static void lp(ByteArrayOutputStream out, byte[] field) {
    out.writeBytes(ByteBuffer.allocate(4).putInt(field.length).array());
    out.writeBytes(field);
  }

  private static byte[] ascii(String s) {
    return s.getBytes(US_ASCII);
  }
}
