package dev.tether.common.token;

import static java.nio.charset.StandardCharsets.US_ASCII;
import static java.nio.charset.StandardCharsets.UTF_8;

import com.google.common.io.BaseEncoding;
import dev.tether.common.handshake.HandshakeCrypto;
import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.zip.CRC32;

/**
 * A delegate token value: the one secret a delegate holds. It never prints itself and compares in
 * constant time; {@link #toString()} shows at most the public id.
 *
 * <p>Generated tokens read {@code tdt_} followed by 58 lowercase base32 characters encoding 32
 * random bytes and a CRC-32 of them, so that secret scanners can match them and a mistyped token is
 * caught before any network call. Their public id and key come from fast hashes: 256 random bits
 * make guessing moot. Custom (imported) tokens are any other printable ASCII string of 32 to 512
 * characters. Their strength is only what their owner chose, so their public id and key both go
 * through Argon2id salted with the account ({@link CustomTokenKdf}): a custom token has a public
 * id only within an account, see {@link #credential(String)}.
 */
public final class DelegateToken {

  /** Prefix of every generated token; secret scanners key on it. */
  public static final String PREFIX = "tdt_";

  /** Prefix of every public token id. */
  public static final String ID_PREFIX = "tid_";

  static final int SECRET_BYTES = 32;
  static final int CHECKSUM_BYTES = 4;
  static final int BODY_CHARS = 58;
  static final int GENERATED_LENGTH = PREFIX.length() + BODY_CHARS;
  static final int CUSTOM_MIN_LENGTH = 32;
  static final int CUSTOM_MAX_LENGTH = 512;

  private static final BaseEncoding BASE32 = BaseEncoding.base32().lowerCase().omitPadding();
  private static final byte[] ID_LABEL = "tether/v1 token id".getBytes(US_ASCII);
  private static final SecureRandom RANDOM = new SecureRandom();

  private final byte[] value;
  private final boolean generated;
  /** The public id of a generated token; null for a custom token, whose id depends on the account. */
  private final String generatedId;
  /** Credentials derived so far, by account: a delegate pays a custom token's Argon2id once. */
  private final Map<String, TokenCredential> credentials = new HashMap<>();

  private DelegateToken(byte[] value, boolean generated) {
    this.value = value;
    this.generated = generated;
    this.generatedId = generated ? derivePublicId(value) : null;
  }

  /** A new random token of the {@code tdt_} form. */
  public static DelegateToken generate() {
    byte[] secret = new byte[SECRET_BYTES];
    RANDOM.nextBytes(secret);
    byte[] body = ByteBuffer.allocate(SECRET_BYTES + CHECKSUM_BYTES)
        .put(secret)
        .putInt((int) crc32(secret))
        .array();
    return new DelegateToken((PREFIX + BASE32.encode(body)).getBytes(US_ASCII), true);
  }

  /**
   * Parses a token as a user supplied it (environment, file, YAML), ignoring surrounding white
   * space. A {@code tdt_} token must have the exact length, alphabet and checksum; anything else
   * is taken as a custom token and must look like one.
   *
   * @param source names where the value came from (for example {@code DELEGATE_TOKEN}), used in
   *     the error message; the value itself never is
   * @throws TokenFormatException naming what is wrong, without the value
   */
  public static DelegateToken parse(String source, CharSequence text) {
    Objects.requireNonNull(source, "source");
    if (text == null) {
      throw new TokenFormatException(source + " is empty (expected a delegate token from 'token create')");
    }
    String token = text.toString().strip();
    if (token.isEmpty()) {
      throw new TokenFormatException(source + " is empty (expected a delegate token from 'token create')");
    }
    if (token.startsWith(PREFIX)) {
      return parseGenerated(source, token);
    }
    checkCustomShape(source, token);
    return new DelegateToken(token.getBytes(US_ASCII), false);
  }

  private static DelegateToken parseGenerated(String source, String token) {
    if (token.length() != GENERATED_LENGTH) {
      throw new TokenFormatException(String.format(
          "%s is malformed: %d characters, expected %d (a token starting with '%s'; copy it again"
              + " from 'token create')",
          source, token.length(), GENERATED_LENGTH, PREFIX));
    }
    String body = token.substring(PREFIX.length());
    for (int i = 0; i < body.length(); i++) {
      char c = body.charAt(i);
      boolean ok = (c >= 'a' && c <= 'z') || (c >= '2' && c <= '7');
      if (!ok) {
        throw new TokenFormatException(String.format(
            "%s is malformed: invalid character at position %d (expected lowercase base32, a-z and"
                + " 2-7, after '%s'; copy it again from 'token create')",
            source, PREFIX.length() + i + 1, PREFIX));
      }
    }
    byte[] decoded;
    try {
      decoded = BASE32.decode(body);
    } catch (IllegalArgumentException e) {
      throw new TokenFormatException(source + " is malformed: not valid base32 after '" + PREFIX
          + "' (copy it again from 'token create')");
    }
    if (decoded.length != SECRET_BYTES + CHECKSUM_BYTES || !BASE32.encode(decoded).equals(body)) {
      throw new TokenFormatException(source + " is malformed: not a canonical base32 body after '"
          + PREFIX + "' (copy it again from 'token create')");
    }
    byte[] secret = Arrays.copyOf(decoded, SECRET_BYTES);
    int expected = ByteBuffer.wrap(decoded, SECRET_BYTES, CHECKSUM_BYTES).getInt();
    if (expected != (int) crc32(secret)) {
      throw new TokenFormatException(source + " is malformed: checksum mismatch (expected a token"
          + " starting with '" + PREFIX + "'; copy it again from 'token create')");
    }
    return new DelegateToken(token.getBytes(US_ASCII), true);
  }

  private static void checkCustomShape(String source, String token) {
    if (token.length() < CUSTOM_MIN_LENGTH || token.length() > CUSTOM_MAX_LENGTH) {
      throw new TokenFormatException(String.format(
          "%s is malformed: %d characters (expected a token starting with '%s' from 'token create',"
              + " or a custom token of %d to %d characters)",
          source, token.length(), PREFIX, CUSTOM_MIN_LENGTH, CUSTOM_MAX_LENGTH));
    }
    for (int i = 0; i < token.length(); i++) {
      char c = token.charAt(i);
      if (c <= ' ' || c > '~') {
        throw new TokenFormatException(String.format(
            "%s is malformed: character at position %d is not printable ASCII (expected a token"
                + " starting with '%s', or a custom token of printable ASCII without spaces)",
            source, i + 1, PREFIX));
      }
    }
  }

  private static long crc32(byte[] bytes) {
    CRC32 crc = new CRC32();
    crc.update(bytes);
    return crc.getValue();
  }

  private static String derivePublicId(byte[] value) {
    try {
      MessageDigest sha = MessageDigest.getInstance("SHA-256");
      sha.update(ID_LABEL);
      sha.update(value);
      return ID_PREFIX + BASE32.encode(sha.digest(), 0, 10);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 unavailable", e);
    }
  }

  /** Whether the token is of the generated {@code tdt_} form. */
  public boolean isGenerated() {
    return generated;
  }

  /**
   * The public id of a generated token: safe for logs, lists and metrics, reveals nothing of the
   * secret. A custom token has a public id only within an account: use {@link #credential(String)}.
   *
   * @throws IllegalStateException for a custom token
   */
  public String publicId() {
    if (!generated) {
      throw new IllegalStateException("a custom token's public id depends on its account (use credential(accountId))");
    }
    return generatedId;
  }

  /**
   * The token's public id and key in {@code accountId}. For a custom token this costs one Argon2id
   * evaluation (64 MiB, a few tenths of a second) the first time per account; the result is kept in
   * this instance, so reuse the instance rather than parse the value again.
   */
  public TokenCredential credential(String accountId) {
    Objects.requireNonNull(accountId, "accountId");
    // one derivation per account even when several threads ask at once: the lock is held across it
    synchronized (credentials) {
      TokenCredential known = credentials.get(accountId);
      if (known == null) {
        known = generated
            ? new TokenCredential(generatedId, HandshakeCrypto.tokenKey(value, accountId))
            : CustomTokenKdf.credential(value, accountId);
        credentials.put(accountId, known);
      }
      return known;
    }
  }

  /**
   * A keyed fingerprint of the value, the same in every account, by which a manager refuses a value
   * already in use. For a custom token it costs one Argon2id evaluation; see
   * {@link CustomTokenKdf#fingerprint}.
   */
  public byte[] fingerprint(byte[] fingerprintKey) {
    return generated
        ? CustomTokenKdf.fingerprintMac(fingerprintKey, value)
        : CustomTokenKdf.fingerprint(value, fingerprintKey);
  }

  /**
   * The token value itself. Call only to show it once to its creator, or to write it where the
   * operator asked (an install file); never to log it.
   */
  public String reveal() {
    return new String(value, UTF_8);
  }

  @Override
  public boolean equals(Object other) {
    return other instanceof DelegateToken that && MessageDigest.isEqual(value, that.value);
  }

  @Override
  public int hashCode() {
    // a custom token has no value-independent hash short of Argon2id, and any fast hash of its
    // value would be a guess oracle: all custom tokens share one bucket
    return generated ? generatedId.hashCode() : 0;
  }

  @Override
  public String toString() {
    return generated ? "DelegateToken[" + generatedId + "]" : "DelegateToken[custom]";
  }
}
