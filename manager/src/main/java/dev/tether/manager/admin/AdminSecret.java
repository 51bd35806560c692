package dev.tether.manager.admin;

import static java.nio.charset.StandardCharsets.US_ASCII;

import com.google.common.io.BaseEncoding;
import dev.tether.common.handshake.HandshakeCrypto;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.Optional;
import java.util.zip.CRC32;

/**
 * An admin credential: {@code tak_} and 58 lowercase base32 characters encoding 32 random bytes
 * and their CRC-32, the form of a delegate token with its own prefix, so that secret scanners and
 * {@link dev.tether.common.token.Secrets} match it and a mistyped one is caught before any call.
 * It has a public id ({@code adm_}, safe to show) and is stored only as an HMAC under a master
 * subkey ({@link #digest}), so that a copy of the database cannot authenticate.
 *
 * <p>An {@code admin.key} written by an earlier version holds {@code tak_} and 52 characters (32
 * bytes, no checksum); it is still accepted, as the bootstrap owner's credential.
 */
public final class AdminSecret {

  public static final String PREFIX = "tak_";
  public static final String ID_PREFIX = "adm_";
  /** Purpose of the master subkey that keys stored digests. */
  public static final String DIGEST_PURPOSE = "admin credential digest";

  static final int SECRET_BYTES = 32;
  static final int BODY_CHARS = 58;
  static final int LEGACY_BODY_CHARS = 52;
  private static final BaseEncoding BASE32 = BaseEncoding.base32().lowerCase().omitPadding();
  private static final byte[] ID_LABEL = "tether/v1 admin id".getBytes(US_ASCII);

  private final String value;

  private AdminSecret(String value) {
    this.value = value;
  }

  public static AdminSecret generate() {
    byte[] secret = HandshakeCrypto.randomBytes(SECRET_BYTES);
    byte[] body = ByteBuffer.allocate(SECRET_BYTES + 4).put(secret).putInt(crc32(secret)).array();
    return new AdminSecret(PREFIX + BASE32.encode(body));
  }

  /**
   * Parses a presented credential; empty when it does not have the form of one (wrong prefix,
   * length, alphabet or checksum). Says nothing about whether any admin holds it.
   */
  public static Optional<AdminSecret> parse(String text) {
    if (text == null) {
      return Optional.empty();
    }
    String v = text.strip();
    if (!v.startsWith(PREFIX)) {
      return Optional.empty();
    }
    String body = v.substring(PREFIX.length());
    byte[] decoded;
    try {
      decoded = BASE32.decode(body);
    } catch (IllegalArgumentException e) {
      return Optional.empty();
    }
    if (!BASE32.encode(decoded).equals(body)) {
      return Optional.empty();
    }
    if (body.length() == LEGACY_BODY_CHARS && decoded.length == SECRET_BYTES) {
      return Optional.of(new AdminSecret(v));
    }
    if (body.length() != BODY_CHARS || decoded.length != SECRET_BYTES + 4) {
      return Optional.empty();
    }
    byte[] secret = Arrays.copyOf(decoded, SECRET_BYTES);
    int expected = ByteBuffer.wrap(decoded, SECRET_BYTES, 4).getInt();
    return expected == crc32(secret) ? Optional.of(new AdminSecret(v)) : Optional.empty();
  }

  /** The public id, {@code adm_} and 16 base32 characters of a hash of the value. */
  public String publicId() {
    byte[] input = ByteBuffer.allocate(ID_LABEL.length + value.length()).put(ID_LABEL)
        .put(value.getBytes(US_ASCII)).array();
    return ID_PREFIX + BASE32.encode(HandshakeCrypto.sha256(input)).substring(0, 16);
  }

  /** The stored form: hex HMAC-SHA256 of the value under {@code digestKey} (the master subkey). */
  public String digest(byte[] digestKey) {
    return BaseEncoding.base16().lowerCase().encode(HandshakeCrypto.hmac(digestKey, value.getBytes(US_ASCII)));
  }

  /** The value, for the one response that shows it. */
  public String reveal() {
    return value;
  }

  @Override
  public String toString() {
    return "AdminSecret[" + publicId() + "]";
  }

  private static int crc32(byte[] bytes) {
    CRC32 crc = new CRC32();
    crc.update(bytes);
    return (int) crc.getValue();
  }
}
