package dev.tether.common.files;

import java.nio.file.Path;
import java.util.Arrays;

/**
 * A process that writes numbered files through {@link PrivateFiles#createFile} until it is killed
 * (or has written 20),
 * saying on standard output after each one that it is complete. {@link PrivateFilesTest} kills it
 * with SIGKILL in the middle of a write and checks what it left.
 */
final class CrashingWriter {

  static final int FILE_BYTES = 8 * 1024 * 1024;

  private CrashingWriter() {}

  /**
   * The content of file {@code i}: large, so that a kill lands in the middle of writing one, and
   * made in place in {@code buffer} so that making it takes no time next to writing it.
   */
  static byte[] content(int i, byte[] buffer) {
    Arrays.fill(buffer, 0, 16, (byte) ('a' + i % 26));
    return buffer;
  }

  /** A buffer for {@link #content}, with the part that is the same in every file. */
  static byte[] buffer() {
    byte[] buffer = new byte[FILE_BYTES];
    Arrays.fill(buffer, (byte) '.');
    return buffer;
  }

  public static void main(String[] args) throws Exception {
    Path dir = Path.of(args[0]);
    byte[] buffer = buffer();
    // bounded, in case the test that should kill it does not
    for (int i = 0; i < 20; i++) {
      PrivateFiles.createFile(dir.resolve("key-" + i), content(i, buffer));
      System.out.println("wrote " + i);
      System.out.flush();
    }
  }
}
