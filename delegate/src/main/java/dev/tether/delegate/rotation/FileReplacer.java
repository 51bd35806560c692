package dev.tether.delegate.rotation;

import dev.tether.common.files.PrivateFiles;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.AccessDeniedException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Optional;
import java.util.Set;

/**
 * Replaces a file that holds the delegate's token (a token file, a config file) with new content,
 * atomically and durably, with the old file's owner, group and mode, or says why it cannot.
 *
 * <p>The new content goes to a temporary file in the same directory, created 0600 so that no one
 * else can read the token even for a moment, given the old file's owner, group and mode, forced to
 * disk, then renamed over the target in one step ({@code rename(2)}), after which the directory is
 * forced too. A crash before the rename leaves the old file whole (and perhaps a temporary file
 * {@code .NAME.<digits>.tmp}, which is never read as the target and which the next keep removes);
 * a crash after it leaves the new one whole. A file system that cannot rename atomically is refused
 * rather than written in two steps.
 */
final class FileReplacer {

  /** The points of a replacement, in order; tests stop a process at each one and kill it there. */
  enum Step { TEMP_CREATED, TEMP_WRITTEN, ATTRIBUTES_SET, TEMP_SYNCED, RENAMED, DIRECTORY_SYNCED }

  /** Told of each step as it completes. */
  @FunctionalInterface
  interface Steps {
    Steps NONE = step -> {};

    void reached(Step step);
  }

  private static final Set<PosixFilePermission> OWNER_ONLY = PosixFilePermissions.fromString("rw-------");
  private static final String TEMP_SUFFIX = ".tmp";

  private FileReplacer() {}

  /**
   * The file to replace for {@code configured}: the file itself, or the one a symbolic link points
   * to (replacing the link would leave the link's target, which other readers may use, holding the
   * old token). Refuses a file of a mounted Kubernetes Secret or ConfigMap, a file in
   * {@code credentialsDirectory} (systemd credentials), a file no one may write, a file or directory
   * the delegate may not write, and a read-only file system, each with its reason.
   *
   * @param what names the file for messages, such as "token file '/etc/tether/token'"
   */
  static Path target(String what, Path configured, Optional<Path> credentialsDirectory) throws CannotKeepException {
    Path absolute = configured.toAbsolutePath();
    if (Files.isSymbolicLink(absolute) && absolute.getParent() != null
        && Files.isSymbolicLink(absolute.getParent().resolve("..data"))) {
      // the layout of the kubelet's atomic writer: NAME -> ..data/NAME, ..data -> ..TIMESTAMP, mounted read-only
      throw new CannotKeepException("a mounted Secret file is read-only: " + what + " is mounted from a Kubernetes"
          + " Secret (or ConfigMap); set DELEGATE_TOKEN_SECRET to the Secret's name, with a Role that may update it,"
          + " so that the delegate updates the Secret through the Kubernetes API (docs/rotation.md)");
    }
    Path real;
    try {
      real = absolute.toRealPath();
    } catch (IOException e) {
      throw new CannotKeepException(what + " cannot be read (" + cause(e) + ")");
    }
    if (credentialsDirectory.isPresent() && real.startsWith(realOrSelf(credentialsDirectory.get()))) {
      throw new CannotKeepException("a systemd credential is read-only: " + what + " is in the credentials directory"
          + " of the service (" + credentialsDirectory.get() + "); replace the credential's file (LoadCredential= of"
          + " the unit) with the new token and restart the service");
    }
    String linked = real.equals(absolute) ? "" : " (a symbolic link to " + PrivateFiles.quote(real) + ")";
    if (!Files.isRegularFile(real)) {
      throw new CannotKeepException(what + linked + " is not a regular file");
    }
    try {
      if (Files.getFileStore(real).isReadOnly()) {
        throw new CannotKeepException(what + linked + " is on a read-only file system: set the new token where the"
            + " delegate is installed and restart it");
      }
    } catch (IOException e) {
      throw new CannotKeepException(what + linked + " cannot be examined (" + cause(e) + ")");
    }
    Optional<PosixFileAttributes> attributes = posixAttributes(real);
    if (attributes.isPresent() && attributes.get().permissions().stream().noneMatch(FileReplacer::isWrite)) {
      // nobody may write it: the operator made it read-only, which the delegate respects even as root
      throw new CannotKeepException(what + linked + " is read-only (mode "
          + PrivateFiles.octal(attributes.get().permissions()) + "): to let rotation replace it, let its owner write"
          + " it (chmod u+w); otherwise set the new token there by hand and restart the delegate");
    }
    if (!Files.isWritable(real)) {
      throw new CannotKeepException(what + linked + " is read-only for the delegate, which runs as "
          + System.getProperty("user.name") + attributes.map(a -> " (mode " + PrivateFiles.octal(a.permissions())
              + ", owner " + a.owner().getName() + ")").orElse("") + ": let the delegate's user write it, or set the"
          + " new token there by hand and restart the delegate");
    }
    Path dir = real.getParent();
    if (!Files.isWritable(dir)) {
      throw new CannotKeepException(what + linked + " is in a directory the delegate cannot write (" + dir + "): the"
          + " new token is written to a temporary file beside it and renamed over it; let the delegate's user write"
          + " the directory, or set the new token by hand and restart the delegate");
    }
    return real;
  }

  /**
   * Replaces {@code target} (from {@link #target}) with {@code content}. On failure the temporary
   * file is removed and the old file is left as it was.
   */
  static void replace(String what, Path target, byte[] content, Steps steps) throws CannotKeepException {
    Path dir = target.getParent();
    removeLeftovers(target);
    Optional<PosixFileAttributes> old = posixAttributes(target);
    Path temp;
    try {
      temp = old.isPresent()
          ? Files.createTempFile(dir, "." + target.getFileName() + ".", TEMP_SUFFIX,
              PosixFilePermissions.asFileAttribute(OWNER_ONLY))
          : Files.createTempFile(dir, "." + target.getFileName() + ".", TEMP_SUFFIX);
    } catch (AccessDeniedException e) {
      throw new CannotKeepException(what + " is in a directory the delegate cannot write (" + dir + "): " + cause(e));
    } catch (IOException e) {
      throw new CannotKeepException(what + ": cannot create a temporary file in " + dir + " (" + cause(e) + ")");
    }
    boolean moved = false;
    try {
      steps.reached(Step.TEMP_CREATED);
      try (FileChannel channel = FileChannel.open(temp, StandardOpenOption.WRITE)) {
        ByteBuffer buffer = ByteBuffer.wrap(content);
        while (buffer.hasRemaining()) {
          channel.write(buffer);
        }
        steps.reached(Step.TEMP_WRITTEN);
        if (old.isPresent()) {
          copyAttributes(what, old.get(), temp);
        }
        steps.reached(Step.ATTRIBUTES_SET);
        channel.force(true);
      } catch (IOException e) {
        throw new CannotKeepException(what + ": cannot write the temporary file " + PrivateFiles.quote(temp) + " ("
            + cause(e) + ")");
      }
      steps.reached(Step.TEMP_SYNCED);
      try {
        Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE);
      } catch (AtomicMoveNotSupportedException e) {
        throw new CannotKeepException(what + " is on a file system that cannot replace a file atomically, and a"
            + " crash while writing it in two steps could lose the token: set the new token by hand");
      } catch (IOException e) {
        throw new CannotKeepException(what + ": cannot rename the new file over it (" + cause(e) + ")");
      }
      moved = true;
      steps.reached(Step.RENAMED);
      syncDirectory(dir);
      steps.reached(Step.DIRECTORY_SYNCED);
    } finally {
      if (!moved) {
        try {
          Files.deleteIfExists(temp);
        } catch (IOException e) {
          // the next keep removes it; the old file is whole either way
        }
      }
    }
  }

  /** The old file's owner, group and mode on the new one; a file given away is refused, not left. */
  private static void copyAttributes(String what, PosixFileAttributes old, Path temp) throws CannotKeepException {
    PosixFileAttributeView view = Files.getFileAttributeView(temp, PosixFileAttributeView.class,
        LinkOption.NOFOLLOW_LINKS);
    try {
      PosixFileAttributes now = view.readAttributes();
      if (!now.owner().equals(old.owner())) {
        try {
          view.setOwner(old.owner());
        } catch (IOException e) {
          throw new CannotKeepException(what + " is owned by " + old.owner().getName() + ", and the delegate, which"
              + " runs as " + System.getProperty("user.name") + ", cannot give the new file that owner (" + cause(e)
              + "): run the delegate as " + old.owner().getName() + ", or give the file to the delegate's user");
        }
      }
      if (!now.group().equals(old.group())) {
        try {
          view.setGroup(old.group());
        } catch (IOException e) {
          throw new CannotKeepException(what + " has the group " + old.group().getName() + ", which the delegate"
              + " cannot give the new file (" + cause(e) + "): add the delegate's user to that group, or change the"
              + " file's group to one of the delegate's");
        }
      }
      // after chown, which may clear some bits
      view.setPermissions(old.permissions());
    } catch (IOException e) {
      throw new CannotKeepException(what + ": cannot give the new file the old one's owner and mode (" + cause(e)
          + ")");
    }
  }

  private static Optional<PosixFileAttributes> posixAttributes(Path file) throws CannotKeepException {
    if (!file.getFileSystem().supportedFileAttributeViews().contains("posix")) {
      return Optional.empty();
    }
    try {
      return Optional.of(Files.readAttributes(file, PosixFileAttributes.class));
    } catch (IOException e) {
      throw new CannotKeepException(PrivateFiles.quote(file) + " cannot be examined (" + cause(e) + ")");
    }
  }

  private static boolean isWrite(PosixFilePermission p) {
    return p == PosixFilePermission.OWNER_WRITE || p == PosixFilePermission.GROUP_WRITE
        || p == PosixFilePermission.OTHERS_WRITE;
  }

  /** Removes the temporary files of earlier replacements of {@code target} that a crash interrupted. */
  private static void removeLeftovers(Path target) {
    try {
      PrivateFiles.removeLeftovers(target);
    } catch (IOException e) {
      // a leftover is never read as the target: failing to remove one does not stop the keep
    }
  }

  private static void syncDirectory(Path dir) {
    PrivateFiles.syncDirectory(dir);
  }

  private static Path realOrSelf(Path path) {
    try {
      return path.toRealPath();
    } catch (IOException e) {
      return path.toAbsolutePath();
    }
  }

  /** An I/O error's kind and the file system's word for it, as "AccessDeniedException: Permission denied". */
  static String cause(IOException e) {
    String reason = e instanceof FileSystemException fs ? fs.getReason() : e.getMessage();
    return e.getClass().getSimpleName() + (reason == null ? "" : ": " + reason);
  }
}
