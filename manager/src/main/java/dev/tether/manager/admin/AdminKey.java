package dev.tether.manager.admin;

import static java.nio.charset.StandardCharsets.UTF_8;

import com.google.common.io.BaseEncoding;
import dev.tether.common.handshake.HandshakeCrypto;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;

/**
 * The administrator's credential: {@code tak_} and 52 base32 characters, generated at first start
 * into a 0600 file in the data directory. The manager keeps only its SHA-256 in memory.
 */
public final class AdminKey {

  public static final String FILE_NAME = "admin.key";
  public static final String PREFIX = "tak_";

  private final byte[] digest;

  private AdminKey(byte[] digest) {
    this.digest = digest;
  }

  /** Loads the key file, creating it with a fresh key on first start. */
  public static AdminKey loadOrCreate(Path file) {
    try {
      if (!Files.exists(file)) {
        String fresh = PREFIX + BaseEncoding.base32().lowerCase().omitPadding()
            .encode(HandshakeCrypto.randomBytes(32));
        try {
          Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
          Files.writeString(file, fresh + "\n", UTF_8, StandardOpenOption.TRUNCATE_EXISTING);
        } catch (FileAlreadyExistsException raced) {
          // created concurrently: use the one on disk
        }
      }
      return fromValue(Files.readString(file, UTF_8).strip(), file.toString());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read or create admin key file " + file, e);
    }
  }

  static AdminKey fromValue(String value, String source) {
    if (!value.startsWith(PREFIX) || value.length() < PREFIX.length() + 32) {
      throw new IllegalStateException("admin key in " + source + " is malformed (expected 'tak_'"
          + " followed by at least 32 characters; delete the file to generate a new key)");
    }
    return new AdminKey(HandshakeCrypto.sha256(value.getBytes(UTF_8)));
  }

  /** Constant-time check of a presented key. */
  public boolean matches(String presented) {
    return presented != null
        && HandshakeCrypto.equal(digest, HandshakeCrypto.sha256(presented.getBytes(UTF_8)));
  }

  @Override
  public String toString() {
    return "AdminKey[redacted]";
  }
}
