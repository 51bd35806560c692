package dev.tether.manager.server;

import dev.tether.common.files.InsecureFileException;
import dev.tether.common.files.PrivateFiles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The manager's data directory: created 0700, refused when other users can write to it (they could
 * replace a key or the database), and its embedded database files made 0600 once H2 has created
 * them with the process umask.
 */
public final class DataDirectory {

  private static final Logger log = LoggerFactory.getLogger(DataDirectory.class);
  /** The embedded H2 database ({@code JdbcStore.h2Url}) and the trace file H2 writes beside it on errors. */
  static final List<String> DATABASE_FILES = List.of("tether.mv.db", "tether.trace.db");

  private DataDirectory() {}

  /**
   * Creates {@code dir} (0700) if it is missing. An existing one is refused if group or others may
   * write to it, and used with one warning if they may list it: an operator may have chosen a
   * group, and every file in it is 0600 anyway. Changes nothing in an existing directory.
   */
  public static Path prepare(Path dir) throws IOException {
    Path absolute = dir.toAbsolutePath().normalize();
    if (Files.exists(absolute) && !Files.isDirectory(absolute)) {
      throw new IllegalStateException("data directory " + PrivateFiles.quote(absolute) + " is not a directory"
          + " (expected a directory for the database and keys; choose another --data-dir)");
    }
    if (PrivateFiles.createDirectory(absolute)) {
      return absolute;
    }
    Optional<Set<PosixFilePermission>> mode = PrivateFiles.permissions(absolute);
    if (mode.isEmpty()) {
      return absolute;
    }
    if (PrivateFiles.writableByOthers(mode.get())) {
      throw new InsecureFileException(absolute, "permissions " + PrivateFiles.octal(mode.get())
          + " for data directory " + PrivateFiles.quote(absolute) + " are too open: other users can write to it,"
          + " so they could replace master.key, admin.key, the TLS key or the database. Refusing to start;"
          + " nothing in it was changed. Fix: chmod 700 " + PrivateFiles.quote(absolute));
    }
    if (PrivateFiles.readableByOthers(mode.get())) {
      log.warn("data directory {} has permissions {}: other users can list it (its key and database files"
          + " are 0600). If no group is meant to, run: chmod 700 {}", PrivateFiles.quote(absolute),
          PrivateFiles.octal(mode.get()), PrivateFiles.quote(absolute));
    }
    return absolute;
  }

  /**
   * Makes the embedded database files in {@code dir} 0600 (H2 creates them with the process umask);
   * call once the store has opened them. Files that do not exist (another database) are skipped.
   */
  public static void protectDatabaseFiles(Path dir) throws IOException {
    for (String name : DATABASE_FILES) {
      Path file = dir.toAbsolutePath().normalize().resolve(name);
      if (Files.exists(file)) {
        PrivateFiles.restrictToOwner(file);
      }
    }
  }
}
