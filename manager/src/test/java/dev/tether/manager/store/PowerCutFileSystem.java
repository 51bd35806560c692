package dev.tether.manager.store;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardCopyOption;
import org.h2.store.fs.FileBase;
import org.h2.store.fs.FilePath;
import org.h2.store.fs.FilePathWrapper;

/**
 * An H2 file system ({@code jdbc:h2:powercut:/path}) that models what survives a power cut: the
 * files as they were at their last {@code force} (fsync), nothing written after it. Every write
 * goes to the real file at once, as it would reach the operating system's cache; each
 * {@link FileChannel#force} copies the file to its durable image. {@link #cutPower} puts the
 * durable images of one directory into another, as a machine would find its disk after the cut:
 * a file never forced is not there at all.
 *
 * <p>What it does not model: a real cut may also keep some of the writes after the last force, in
 * part or out of order (H2's recovery from a torn chunk is not exercised here), and a file's
 * directory entry is taken to be durable with its first force, which POSIX does not promise for a
 * new file without an fsync of its directory. {@link #failForces} makes every force fail, as a
 * disk that can no longer write does.
 */
public final class PowerCutFileSystem extends FilePathWrapper {

  static final String SCHEME = "powercut";
  private static final String DURABLE = ".durable";
  private static volatile boolean failForces;

  static {
    FilePath.register(new PowerCutFileSystem());
  }

  /** H2 makes one for each path it opens (by reflection, hence public). */
  public PowerCutFileSystem() {
  }

  /** The JDBC URL of the manager's embedded database in {@code dataDir}, on this file system. */
  static String h2Url(Path dataDir) {
    String url = JdbcStore.h2Url(dataDir);
    if (!url.startsWith("jdbc:h2:file:")) {
      throw new IllegalStateException("expected the manager's H2 URL to name a file, got " + url);
    }
    return "jdbc:h2:" + SCHEME + ":" + url.substring("jdbc:h2:file:".length());
  }

  /** From now on every force fails (an I/O error, as from a disk that cannot write), or works again. */
  static void failForces(boolean fail) {
    failForces = fail;
  }

  /**
   * The power goes off: {@code into} gets the durable image of every file of {@code dataDir} that
   * was ever forced, under its own name. The files of {@code dataDir} are left as they are.
   */
  static void cutPower(Path dataDir, Path into) {
    try {
      Files.createDirectories(into);
      try (var files = Files.list(dataDir)) {
        for (Path image : (Iterable<Path>) files::iterator) {
          String name = image.getFileName().toString();
          if (name.endsWith(DURABLE)) {
            Files.copy(image, into.resolve(name.substring(0, name.length() - DURABLE.length())),
                StandardCopyOption.REPLACE_EXISTING);
          }
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @Override
  public String getScheme() {
    return SCHEME;
  }

  @Override
  public FileChannel open(String mode) throws IOException {
    FileChannel real = getBase().open(mode);
    return new Channel(real, Paths.get(getBase().toString()).toAbsolutePath());
  }

  /** Writes through to the real file; a force also copies it to its durable image. */
  private static final class Channel extends FileBase {
    private final FileChannel real;
    private final Path file;

    Channel(FileChannel real, Path file) {
      this.real = real;
      this.file = file;
    }

    @Override
    public synchronized int write(ByteBuffer src, long position) throws IOException {
      return real.write(src, position);
    }

    @Override
    public synchronized int write(ByteBuffer src) throws IOException {
      return real.write(src);
    }

    @Override
    public synchronized FileChannel truncate(long size) throws IOException {
      real.truncate(size);
      return this;
    }

    @Override
    public synchronized void force(boolean metaData) throws IOException {
      if (failForces) {
        throw new IOException("Input/output error (simulated: the disk could not write " + file.getFileName() + ")");
      }
      real.force(metaData);
      Files.copy(file, file.resolveSibling(file.getFileName() + DURABLE), StandardCopyOption.REPLACE_EXISTING);
    }

    @Override
    public int read(ByteBuffer dst, long position) throws IOException {
      return real.read(dst, position);
    }

    @Override
    public int read(ByteBuffer dst) throws IOException {
      return real.read(dst);
    }

    @Override
    public long position() throws IOException {
      return real.position();
    }

    @Override
    public FileChannel position(long newPosition) throws IOException {
      real.position(newPosition);
      return this;
    }

    @Override
    public long size() throws IOException {
      return real.size();
    }

    @Override
    public FileLock tryLock(long position, long size, boolean shared) throws IOException {
      return real.tryLock(position, size, shared);
    }

    @Override
    protected void implCloseChannel() throws IOException {
      real.close();
    }

    @Override
    public String toString() {
      return SCHEME + ":" + file;
    }
  }
}
