package dev.tether.common.files;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PrivateFilesTest {

  private static final String HOLDS = "the test key, which opens everything";

  @TempDir Path dir;

  @Test
  void createDirectory_makesANewDirectoryOwnerOnly_andLeavesAnExistingOneAsItIs() throws Exception {
    Path created = dir.resolve("parent/data");
    assertThat(PrivateFiles.createDirectory(created)).isTrue();
    assertThat(mode(created)).isEqualTo("rwx------");

    Path existing = Files.createDirectory(dir.resolve("existing"));
    Files.setPosixFilePermissions(existing, PosixFilePermissions.fromString("rwxr-x---"));
    assertThat(PrivateFiles.createDirectory(existing)).isFalse();
    assertThat(mode(existing)).isEqualTo("rwxr-x---");
  }

  @Test
  void createFile_writesAnOwnerOnlyFile_andNeverReplacesAnExistingOne() throws Exception {
    Path file = dir.resolve("secret.key");
    assertThat(PrivateFiles.createFile(file, "first\n".getBytes(UTF_8))).isTrue();
    assertThat(Files.readString(file)).isEqualTo("first\n");
    assertThat(mode(file)).isEqualTo("rw-------");

    assertThat(PrivateFiles.createFile(file, "second\n".getBytes(UTF_8))).isFalse();
    assertThat(Files.readString(file)).isEqualTo("first\n");
    assertThat(namesIn(dir)).containsExactly("secret.key");
  }

  @Test
  void replaceFile_replacesTheContentAndTheModeInOneStep() throws Exception {
    Path file = dir.resolve("manager.key");
    Files.writeString(file, "old");
    Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-r--r--"));

    PrivateFiles.replaceFile(file, "new".getBytes(UTF_8));

    assertThat(Files.readString(file)).isEqualTo("new");
    assertThat(mode(file)).isEqualTo("rw-------");
    assertThat(namesIn(dir)).containsExactly("manager.key");
  }

  @Test
  void aLeftoverOfACrashedWrite_isNeverTakenForTheFile_andReadingTheFileRemovesIt() throws Exception {
    // what a crash in the middle of writing leaves: a partial temporary file, no target
    Path leftover = dir.resolve(".master.key.8273645.tmp");
    Files.writeString(leftover, "half a ke");
    Path file = dir.resolve("master.key");
    assertThat(file).doesNotExist();

    assertThat(PrivateFiles.createFile(file, "the whole key\n".getBytes(UTF_8))).isTrue();
    assertThat(new String(PrivateFiles.readPrivate(file, HOLDS), UTF_8)).isEqualTo("the whole key\n");
    assertThat(namesIn(dir)).containsExactly("master.key");
  }

  @Test
  void aWriterKilledInTheMiddle_leavesEveryFileAbsentOrComplete_neverEmptyOrPartial() throws Exception {
    byte[] buffer = CrashingWriter.buffer();
    for (int round = 0; round < 5; round++) {
      Path out = Files.createDirectory(dir.resolve("round-" + round));
      Process child = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
          "-cp", System.getProperty("java.class.path"), CrashingWriter.class.getName(), out.toString())
          .redirectError(ProcessBuilder.Redirect.DISCARD)
          .start();
      try (BufferedReader lines = new BufferedReader(new InputStreamReader(child.getInputStream(), UTF_8))) {
        String line;
        do {
          line = lines.readLine();
        } while (line != null && !line.equals("wrote 1"));
        assertThat(line).as("the writer's progress").isEqualTo("wrote 1");
        // SIGKILL while it writes file 2 (each write takes far longer than the rest of its loop)
        child.destroyForcibly();
      } finally {
        child.destroyForcibly().waitFor();
      }
      List<Path> keys = new ArrayList<>();
      try (Stream<Path> files = Files.list(out)) {
        files.filter(f -> f.getFileName().toString().startsWith("key-")).forEach(keys::add);
      }
      assertThat(keys).hasSizeGreaterThanOrEqualTo(2);
      for (Path key : keys) {
        int i = Integer.parseInt(key.getFileName().toString().substring(4));
        assertThat(Files.size(key)).as(key + " size").isEqualTo(CrashingWriter.FILE_BYTES);
        assertThat(Files.readAllBytes(key)).as(key.toString()).isEqualTo(CrashingWriter.content(i, buffer));
        assertThat(mode(key)).isEqualTo("rw-------");
      }
    }
  }

  @Test
  void checkPrivate_refusesAFileOthersCanRead_sayingWhyAndHowToFixIt() throws Exception {
    Path file = Files.writeString(dir.resolve("master.key"), "k");
    for (String open : List.of("rw-r--r--", "rw-r-----", "rw----r--", "rw-----w-")) {
      Files.setPosixFilePermissions(file, PosixFilePermissions.fromString(open));
      assertThatThrownBy(() -> PrivateFiles.checkPrivate(file, HOLDS))
          .isInstanceOfSatisfying(InsecureFileException.class, e -> assertThat(e.file()).isEqualTo(file))
          .hasMessageContaining("'" + file + "'")
          .hasMessageContaining(PrivateFiles.octal(PosixFilePermissions.fromString(open)))
          .hasMessageContaining(HOLDS)
          .hasMessageContaining("refusing")
          .hasMessageEndingWith("Fix: chmod 600 '" + file + "'");
    }
    Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-r--r--"));
    assertThatThrownBy(() -> PrivateFiles.readPrivate(file, HOLDS))
        .hasMessage("permissions 0644 for '" + file + "' are too open: other users can read it, and it holds "
            + HOLDS + ". Only its owner may read it; refusing to use it. Fix: chmod 600 '" + file + "'");

    Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
    PrivateFiles.checkPrivate(file, HOLDS);
    Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("r--------"));
    assertThat(PrivateFiles.readPrivate(file, HOLDS)).isEqualTo("k".getBytes(UTF_8));
  }

  @Test
  void checkPrivate_refusesAFileInADirectoryOthersCanWrite() throws Exception {
    Path shared = Files.createDirectory(dir.resolve("shared"));
    Path file = Files.writeString(shared.resolve("admin.key"), "k");
    Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
    Files.setPosixFilePermissions(shared, PosixFilePermissions.fromString("rwxrwxrwx"));

    assertThatThrownBy(() -> PrivateFiles.checkPrivate(file, HOLDS))
        .isInstanceOfSatisfying(InsecureFileException.class, e -> assertThat(e.file()).isEqualTo(shared))
        .hasMessageContaining("permissions 0777 for directory '" + shared + "'")
        .hasMessageContaining("can replace 'admin.key'")
        .hasMessageEndingWith("Fix: chmod go-w '" + shared + "'");

    Files.setPosixFilePermissions(shared, PosixFilePermissions.fromString("rwxr-xr-x"));
    PrivateFiles.checkPrivate(file, HOLDS);
  }

  @Test
  void problem_describesWithoutRefusing_forFilesTheOperatorOwns() throws Exception {
    Path file = Files.writeString(dir.resolve("tls.key"), "k");
    Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-r--r--"));
    assertThat(PrivateFiles.problem(file, HOLDS)).hasValueSatisfying(text -> assertThat(text)
        .contains("0644").doesNotContain("refusing").endsWith("Fix: chmod 600 '" + file + "'"));
    Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
    assertThat(PrivateFiles.problem(file, HOLDS)).isEmpty();
  }

  @Test
  void quote_keepsAPathPasteableIntoAShell() {
    assertThat(PrivateFiles.quote(Path.of("/srv/it's here/a\nb"))).isEqualTo("'/srv/it'\\''s here/a\\x0ab'");
  }

  private static String mode(Path path) throws Exception {
    return PosixFilePermissions.toString(Files.getPosixFilePermissions(path));
  }

  private static List<String> namesIn(Path dir) throws Exception {
    try (Stream<Path> files = Files.list(dir)) {
      return files.map(f -> f.getFileName().toString()).sorted().toList();
    }
  }
}
