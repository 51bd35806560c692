package dev.tether.common.files;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.EnumSet;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one way Tether creates, writes and checks files that hold secrets: directories it creates
 * are 0700, files are written atomically as 0600, and an existing secret file that other users can
 * read, or replace through its directory, is refused the way ssh refuses a private key.
 *
 * <p>Writes go to a temporary file in the same directory (created 0600, so the secret is never
 * readable by others even for a moment), which is written, forced to disk, then moved onto the
 * target in one step, after which the directory is forced too. A crash at any point leaves either
 * no target or the complete one, never an empty or half-written file; what it may leave is a
 * temporary file named {@code .NAME.<digits>.tmp}, which is never read as the target and which
 * {@link #readPrivate} removes.
 *
 * <p>On a file system without POSIX permissions (Windows, some network shares) modes can be
 * neither set nor checked: files are still written atomically, checks pass, and one warning says
 * that the directory's own access control is what protects them.
 */
public final class PrivateFiles {

  private static final Set<PosixFilePermission> OWNER_FILE = PosixFilePermissions.fromString("rw-------");
  private static final Set<PosixFilePermission> OWNER_DIRECTORY = PosixFilePermissions.fromString("rwx------");
  private static final Set<PosixFilePermission> GROUP_OR_OTHERS = EnumSet.of(
      PosixFilePermission.GROUP_READ, PosixFilePermission.GROUP_WRITE, PosixFilePermission.GROUP_EXECUTE,
      PosixFilePermission.OTHERS_READ, PosixFilePermission.OTHERS_WRITE, PosixFilePermission.OTHERS_EXECUTE);
  private static final String TEMP_SUFFIX = ".tmp";
  private static final AtomicBoolean warnedNoPosix = new AtomicBoolean();

  private PrivateFiles() {}

  /**
   * Creates {@code dir} if it is missing (parents too, with the usual mode) and makes the
   * directory itself exactly 0700. An existing directory is left as it is: its owner may have
   * chosen its mode. Returns whether this call created it.
   */
  public static boolean createDirectory(Path dir) throws IOException {
    Path absolute = dir.toAbsolutePath();
    if (Files.isDirectory(absolute)) {
      return false;
    }
    if (absolute.getParent() != null) {
      Files.createDirectories(absolute.getParent());
    }
    boolean posix = supportsPosix(absolute);
    try {
      if (posix) {
        Files.createDirectory(absolute, PosixFilePermissions.asFileAttribute(OWNER_DIRECTORY));
      } else {
        Files.createDirectory(absolute);
      }
    } catch (FileAlreadyExistsException e) {
      if (Files.isDirectory(absolute)) {
        return false; // created concurrently by someone else: theirs, leave it
      }
      throw e;
    }
    if (posix) {
      // the umask can only remove bits from 0700, and an unusual one (0277) would leave the
      // owner unable to write: set the mode outright
      Files.setPosixFilePermissions(absolute, OWNER_DIRECTORY);
    }
    return true;
  }

  /**
   * Writes {@code content} into {@code file} as a new 0600 file, atomically, unless the file
   * exists. Returns false, leaving the existing file untouched, if it does (including when another
   * process created it at the same moment): the caller then reads that one.
   */
  public static boolean createFile(Path file, byte[] content) throws IOException {
    Path target = file.toAbsolutePath();
    Path temp = writeTemp(target, content);
    try {
      try {
        // a hard link is atomic and, unlike a rename, never replaces an existing file
        Files.createLink(target, temp);
      } catch (FileAlreadyExistsException e) {
        return false;
      } catch (NoSuchFileException e) {
        // our temporary file was removed as a leftover by a reader of a target that another
        // process has just created: that target is the one to use
        if (Files.exists(target)) {
          return false;
        }
        throw e;
      } catch (UnsupportedOperationException | FileSystemException e) {
        // no hard links here (some FUSE and network file systems): a plain move, which fails if
        // the target exists; between its check and its rename another creator could slip in
        try {
          Files.move(temp, target);
        } catch (FileAlreadyExistsException exists) {
          return false;
        }
      }
      syncDirectory(target.getParent());
      return true;
    } finally {
      Files.deleteIfExists(temp);
    }
  }

  /** Writes {@code content} into {@code file} as a 0600 file, atomically replacing any earlier one. */
  public static void replaceFile(Path file, byte[] content) throws IOException {
    Path target = file.toAbsolutePath();
    Path temp = writeTemp(target, content);
    try {
      try {
        Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      } catch (AtomicMoveNotSupportedException e) {
        Files.move(temp, target, StandardCopyOption.REPLACE_EXISTING);
      }
      syncDirectory(target.getParent());
    } finally {
      Files.deleteIfExists(temp);
    }
  }

  /**
   * Reads a secret file after {@link #checkPrivate checking} that no other user can read it or
   * replace it, and removes temporary files that an interrupted write of it left behind.
   *
   * @param holds what the file holds and why it matters, for the refusal message (for example
   *     "the master key, which unseals every token key in the database")
   */
  public static byte[] readPrivate(Path file, String holds) throws IOException {
    checkPrivate(file, holds);
    byte[] content = Files.readAllBytes(file);
    removeLeftovers(file.toAbsolutePath());
    return content;
  }

  /**
   * Refuses {@code file} if group or others have any access to it, or may write to its directory
   * (and so replace it), the way ssh refuses a private key.
   *
   * @param holds what the file holds and why it matters, for the message
   * @throws InsecureFileException naming the file, its mode, why it matters and the fix
   */
  public static void checkPrivate(Path file, String holds) throws IOException {
    Optional<Finding> finding = find(file, holds);
    if (finding.isPresent()) {
      Finding f = finding.get();
      throw new InsecureFileException(f.path(), f.what() + "; refusing to use it. Fix: " + f.fix());
    }
  }

  /**
   * What {@link #checkPrivate} would refuse, with its fix, for callers that only warn (a file the
   * operator provides, whose mode is the operator's decision). Empty if the file is private, or if
   * its file system has no POSIX permissions.
   */
  public static Optional<String> problem(Path file, String holds) throws IOException {
    return find(file, holds).map(f -> f.what() + ". Fix: " + f.fix());
  }

  private record Finding(Path path, String what, String fix) {}

  private static Optional<Finding> find(Path file, String holds) throws IOException {
    Path absolute = file.toAbsolutePath();
    Optional<Set<PosixFilePermission>> mode = permissions(absolute);
    if (mode.isEmpty()) {
      return Optional.empty();
    }
    Set<PosixFilePermission> open = EnumSet.noneOf(PosixFilePermission.class);
    open.addAll(mode.get());
    open.retainAll(GROUP_OR_OTHERS);
    if (!open.isEmpty()) {
      String access = readableByOthers(mode.get()) ? "other users can read it" : "other users have access to it";
      return Optional.of(new Finding(absolute, "permissions " + octal(mode.get()) + " for " + quote(absolute)
          + " are too open: " + access + ", and it holds " + holds + ". Only its owner may read it",
          "chmod 600 " + quote(absolute)));
    }
    Path dir = absolute.getParent();
    Optional<Set<PosixFilePermission>> dirMode = dir == null ? Optional.empty() : permissions(dir);
    if (dirMode.isPresent() && writableByOthers(dirMode.get())) {
      return Optional.of(new Finding(dir, "permissions " + octal(dirMode.get()) + " for directory " + quote(dir)
          + " are too open: other users can write to it, so they can replace " + quote(absolute.getFileName())
          + ", which holds " + holds, "chmod go-w " + quote(dir)));
    }
    return Optional.empty();
  }

  /** Makes an existing file 0600 (for files another library created with the process umask). */
  public static void restrictToOwner(Path file) throws IOException {
    if (supportsPosix(file)) {
      Files.setPosixFilePermissions(file, OWNER_FILE);
    }
  }

  /** The file's POSIX permissions, or empty (after one warning) on a file system without them. */
  public static Optional<Set<PosixFilePermission>> permissions(Path file) throws IOException {
    if (!supportsPosix(file)) {
      return Optional.empty();
    }
    return Optional.of(Files.getPosixFilePermissions(file));
  }

  /** Whether group or others may create, rename or delete entries of a directory with this mode. */
  public static boolean writableByOthers(Set<PosixFilePermission> mode) {
    return mode.contains(PosixFilePermission.GROUP_WRITE) || mode.contains(PosixFilePermission.OTHERS_WRITE);
  }

  /** Whether group or others may list a directory (or read a file) with this mode. */
  public static boolean readableByOthers(Set<PosixFilePermission> mode) {
    return mode.contains(PosixFilePermission.GROUP_READ) || mode.contains(PosixFilePermission.OTHERS_READ);
  }

  /** The mode as {@code ls} and {@code chmod} write it, for example {@code 0644}. */
  public static String octal(Set<PosixFilePermission> mode) {
    int bits = 0;
    for (PosixFilePermission p : mode) {
      // PosixFilePermission is declared in the order OWNER_READ ... OTHERS_EXECUTE, i.e. bit 8 down to 0
      bits |= 1 << (8 - p.ordinal());
    }
    return String.format("%04o", bits);
  }

  /** A path in single quotes, as a shell would take it, with unprintable characters escaped. */
  public static String quote(Path path) {
    StringBuilder out = new StringBuilder("'");
    for (char c : path.toString().toCharArray()) {
      if (c == '\'') {
        out.append("'\\''");
      } else if (c < 0x20 || c == 0x7f) {
        out.append(String.format("\\x%02x", (int) c));
      } else {
        out.append(c);
      }
    }
    return out.append('\'').toString();
  }

  private static Path writeTemp(Path target, byte[] content) throws IOException {
    Path dir = target.getParent();
    String prefix = "." + target.getFileName() + ".";
    Path temp = supportsPosix(dir)
        ? Files.createTempFile(dir, prefix, TEMP_SUFFIX, PosixFilePermissions.asFileAttribute(OWNER_FILE))
        : Files.createTempFile(dir, prefix, TEMP_SUFFIX);
    try (FileChannel channel = FileChannel.open(temp, StandardOpenOption.WRITE)) {
      ByteBuffer buffer = ByteBuffer.wrap(content);
      while (buffer.hasRemaining()) {
        channel.write(buffer);
      }
      channel.force(true);
    } catch (IOException | RuntimeException e) {
      Files.deleteIfExists(temp);
      throw e;
    }
    return temp;
  }

  /**
   * Removes {@code .NAME.<digits>.tmp} files that a write of {@code target} interrupted by a crash left
   * (the names {@link #replaceFile} and the delegate's token keepers give their temporary files).
   */
  public static void removeLeftovers(Path target) throws IOException {
    String prefix = "." + target.getFileName() + ".";
    try (DirectoryStream<Path> entries = Files.newDirectoryStream(target.getParent(), entry -> {
      String name = entry.getFileName().toString();
      return name.length() > prefix.length() + TEMP_SUFFIX.length() && name.startsWith(prefix)
          && name.endsWith(TEMP_SUFFIX)
          && name.substring(prefix.length(), name.length() - TEMP_SUFFIX.length()).chars().allMatch(Character::isDigit);
    })) {
      for (Path leftover : entries) {
        Files.deleteIfExists(leftover);
        Log.LOG.info("removed {}, left by an interrupted write of {}", quote(leftover), quote(target));
      }
    }
  }

  /** Forces a directory's entries to disk, so that a completed move survives a power loss. */
  public static void syncDirectory(Path dir) {
    try (FileChannel channel = FileChannel.open(dir, StandardOpenOption.READ)) {
      channel.force(true);
    } catch (IOException e) {
      // some platforms (Windows) cannot open a directory: the move itself is still atomic
      Log.LOG.debug("cannot force directory {} to disk: {}", dir, e.toString());
    }
  }

  private static boolean supportsPosix(Path path) {
    if (path.getFileSystem().supportedFileAttributeViews().contains("posix")) {
      return true;
    }
    if (warnedNoPosix.compareAndSet(false, true)) {
      Log.LOG.warn("the file system of {} has no POSIX permissions: Tether cannot make its key files private"
          + " (0600) or check them; restrict the directory to the manager's user with its own access"
          + " control (for example NTFS ACLs)", quote(path));
    }
    return false;
  }

  /**
   * The logger, made on first use: a check that finds nothing to say (the common case, and all an
   * admin command does with this class) then never starts the logging back end.
   */
  private static final class Log {
    static final Logger LOG = LoggerFactory.getLogger(PrivateFiles.class);
  }
}
