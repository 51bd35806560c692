package dev.tether.common.files;

import java.nio.file.Path;

/**
 * A file that must be private is not: other users can read it, or replace it through its
 * directory. The message names the file, its mode, why that matters and the command that fixes it.
 */
public final class InsecureFileException extends IllegalStateException {

  private static final long serialVersionUID = 1L;

  private final transient Path file;

  public InsecureFileException(Path file, String message) {
    super(message);
    this.file = file;
  }

  /** The file or directory whose permissions are too open. */
  public Path file() {
    return file;
  }
}
