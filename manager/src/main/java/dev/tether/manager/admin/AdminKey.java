package dev.tether.manager.admin;

import static java.nio.charset.StandardCharsets.UTF_8;

import dev.tether.common.files.PrivateFiles;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The bootstrap owner's credential, {@code admin.key} in the data directory: generated at first
 * start into a 0600 file, and the credential of the owner named {@value #BOOTSTRAP_ADMIN}. The
 * manager keeps only the credential's public id and digest, never the value.
 */
public final class AdminKey {

  public static final String FILE_NAME = "admin.key";
  /** The name of the owner whose credential {@code admin.key} holds. */
  public static final String BOOTSTRAP_ADMIN = "bootstrap";
  /** What the file holds, for the message that refuses it when other users can read it. */
  private static final String HOLDS = "the bootstrap owner's admin credential, which lets anyone holding it"
      + " manage admins, tokens and delegates";

  private final AdminSecret secret;

  private AdminKey(AdminSecret secret) {
    this.secret = secret;
  }

  /**
   * Loads the key file, creating it with a fresh credential on first start. The file is written
   * atomically (never empty or half-written, even after a crash) and is refused if other users
   * can read it.
   */
  public static AdminKey loadOrCreate(Path file) {
    try {
      if (!Files.exists(file)) {
        // false: created concurrently, use the one on disk
        PrivateFiles.createFile(file, (AdminSecret.generate().reveal() + "\n").getBytes(UTF_8));
      }
      String value = new String(PrivateFiles.readPrivate(file, HOLDS), UTF_8).strip();
      if (value.isEmpty()) {
        throw new IllegalStateException("admin key file " + PrivateFiles.quote(file) + " is empty: an older"
            + " version was interrupted while creating it. Delete the file and start again to generate a"
            + " new admin key");
      }
      return new AdminKey(AdminSecret.parse(value).orElseThrow(() -> new IllegalStateException("admin key in "
          + PrivateFiles.quote(file) + " is malformed (expected 'tak_' followed by 58 base32 characters, or 52"
          + " from an earlier version; delete the file and start again to generate a new one)")));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read or create admin key file " + file, e);
    }
  }

  AdminSecret secret() {
    return secret;
  }

  @Override
  public String toString() {
    return "AdminKey[" + secret.publicId() + "]";
  }
}
