package dev.tether.manager.server;

import dev.tether.common.files.InsecureFileException;
import dev.tether.common.files.PrivateFiles;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
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
  /** Held (an OS file lock) by the manager using the directory; it names that manager's process. */
  static final String LOCK_FILE = "manager.lock";

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
    if (create(absolute)) {
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

  private static boolean create(Path dir) throws IOException {
    try {
      return PrivateFiles.createDirectory(dir);
    } catch (FileSystemException e) {
      String reason = e instanceof AccessDeniedException ? "permission denied"
          : e instanceof NoSuchFileException || e.getReason() == null ? "that place cannot hold a new directory"
          : e.getReason();
      throw new IOException("cannot create the data directory " + PrivateFiles.quote(dir) + " (at "
          + PrivateFiles.quote(Path.of(e.getFile() != null ? e.getFile() : dir.toString())) + ": " + reason
          + "); choose a --data-dir (or TETHER_DATA_DIR) this user can create and write, e.g. /var/lib/tether or ./tether-data", e);
    }
  }

  /**
   * Takes the data directory for this process until the returned lock is closed: a second manager
   * on the same directory is refused with a message naming the first (its process id and start
   * time), before either opens the embedded database.
   */
  public static Lock lock(Path dir) throws IOException {
    Path file = dir.toAbsolutePath().normalize().resolve(LOCK_FILE);
    FileChannel channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.READ,
        StandardOpenOption.WRITE);
    FileLock lock;
    try {
      lock = channel.tryLock();
    } catch (OverlappingFileLockException e) {
      lock = null; // held by this very process: another manager in the same JVM (tests)
    } catch (IOException e) {
      channel.close();
      throw e;
    }
    if (lock == null) {
      String holder = Files.readString(file).strip();
      channel.close();
      throw new IllegalStateException("data directory " + PrivateFiles.quote(dir) + " is in use by another"
          + " manager (" + (holder.isEmpty() ? "process unknown" : holder) + "). Stop that one first, or give this"
          + " one its own --data-dir; replicas share a PostgreSQL database (--db-url), never a data directory");
    }
    PrivateFiles.restrictToOwner(file);
    channel.truncate(0);
    channel.write(java.nio.ByteBuffer.wrap(("pid " + ProcessHandle.current().pid() + ", started "
        + Instant.now().truncatedTo(ChronoUnit.SECONDS) + "\n").getBytes(StandardCharsets.UTF_8)));
    channel.force(false);
    return new Lock(channel, lock);
  }

  /** The hold on a data directory ({@link #lock}); closing it frees the directory. */
  public static final class Lock implements AutoCloseable {
    private final FileChannel channel;
    private final FileLock lock;

    private Lock(FileChannel channel, FileLock lock) {
      this.channel = channel;
      this.lock = lock;
    }

    @Override
    public void close() {
      try {
        channel.truncate(0);
        lock.release();
        channel.close();
      } catch (IOException e) {
        log.warn("could not release the data directory lock: {}", e.getMessage());
      }
    }
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
