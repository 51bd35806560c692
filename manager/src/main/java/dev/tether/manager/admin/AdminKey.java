package dev.tether.manager.admin;

import static java.nio.charset.StandardCharsets.UTF_8;

import com.google.common.io.BaseEncoding;
import dev.tether.common.files.PrivateFiles;
import dev.tether.common.handshake.HandshakeCrypto;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The administrator's credential: {@code tak_} and 52 base32 characters, generated at first start
 * into a 0600 file in the data directory. The manager keeps only its SHA-256 in memory.
 */
public final class AdminKey {

  public static final String FILE_NAME = "admin.key";
  public static final String PREFIX = "tak_";
  /** What the file holds, for the message that refuses it when other users can read it. */
  private static final String HOLDS = "the admin key, which lets anyone holding it create and revoke tokens";

  private final byte[] digest;

  private AdminKey(byte[] digest) {
    this.digest = digest;
  }

  /**
   * Loads the key file, creating it with a fresh key on first start. The file is written
   * atomically (never empty or half-written, even after a crash) and is refused if other users
   * can read it.
   */
  public static AdminKey loadOrCreate(Path file) {
    try {
      if (!Files.exists(file)) {
        String fresh = PREFIX + BaseEncoding.base32().lowerCase().omitPadding()
            .encode(HandshakeCrypto.randomBytes(32));
        // false: created concurrently, use the one on disk
        PrivateFiles.createFile(file, (fresh + "\n").getBytes(UTF_8));
      }
      String value = new String(PrivateFiles.readPrivate(file, HOLDS), UTF_8).strip();
      if (value.isEmpty()) {
        throw new IllegalStateException("admin key file " + PrivateFiles.quote(file) + " is empty: an older"
            + " version was interrupted while creating it. Delete the file and start again to generate a"
            + " new admin key");
      }
      return fromValue(value, PrivateFiles.quote(file));
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
