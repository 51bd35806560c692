package dev.tether.manager.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tether.common.files.InsecureFileException;
import dev.tether.manager.testing.LogCapture;
import dev.tether.manager.tls.TlsMaterial;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The data directory and every secret in it are private, and are refused when they are not. */
class DataDirectoryTest {

  @TempDir Path root;

  private ManagerServer start(Path dataDir) throws Exception {
    return start(dataDir, null, null);
  }

  private ManagerServer start(Path dataDir, Path tlsCert, Path tlsKey) throws Exception {
    return ManagerServer.start(new ManagerServer.Options(new InetSocketAddress("127.0.0.1", 0), new InetSocketAddress("127.0.0.1", 0), dataDir,
        null, null, null, false, tlsCert, tlsKey, List.of(), ManagerSettings.defaults()));
  }

  @Test
  void aSecondManagerOnTheSameDataDirectory_isRefusedNamingTheFirst_beforeTouchingTheDatabase() throws Exception {
    Path dataDir = root.resolve("tether-data");
    try (ManagerServer first = start(dataDir)) {
      Map<String, String> before = snapshot(dataDir);
      before.remove("tether.mv.db"); // the first manager may write to its database meanwhile
      assertThatThrownBy(() -> start(dataDir))
          .isInstanceOf(IllegalStateException.class)
          .hasMessage("data directory '" + dataDir + "' is in use by another manager (pid "
              + ProcessHandle.current().pid() + ", started " + Files.readString(dataDir.resolve("manager.lock")).strip()
                  .replaceFirst("^pid \\d+, started ", "") + "). Stop that one first, or give this one its own"
              + " --data-dir; replicas share a PostgreSQL database (--db-url), never a data directory");
      Map<String, String> after = snapshot(dataDir);
      after.remove("tether.mv.db");
      assertThat(after).as("nothing else in the data directory changed").isEqualTo(before);
      assertThat(dataDir.resolve("tether.trace.db")).doesNotExist();
      assertThat(first.listenAddress().getPort()).isPositive();
    }
    try (ManagerServer again = start(dataDir)) {
      assertThat(again.listenAddress().getPort()).as("free again once the first stopped").isPositive();
    }
  }

  @Test
  void aDataDirectoryThatCannotBeCreated_isRefusedSayingWhereAndWhy() {
    Path impossible = Path.of("/proc/tether");
    assertThatThrownBy(() -> start(impossible))
        .isInstanceOf(java.io.IOException.class)
        .hasMessageStartingWith("cannot create the data directory '/proc/tether' (at '/proc/tether': ")
        .hasMessageEndingWith("); choose a --data-dir (or TETHER_DATA_DIR) this user can create and write, e.g. /var/lib/tether or"
            + " ./tether-data");
  }

  @Test
  void firstStart_makesTheDataDirectoryAndEverySecretInItPrivate() throws Exception {
    Path dataDir = root.resolve("tether-data");
    try (ManagerServer server = start(dataDir)) {
      assertThat(server.listenAddress().getPort()).isPositive();
      assertThat(mode(dataDir.resolve("tether.mv.db"))).as("tether.mv.db while running").isEqualTo("rw-------");
    }
    assertThat(mode(dataDir)).as("data directory").isEqualTo("rwx------");
    assertThat(mode(dataDir.resolve("tls"))).as("tls/").isEqualTo("rwx------");
    for (String file : List.of("master.key", "admin.key", "tls/manager.key", "tls/manager.crt", "tether.mv.db")) {
      assertThat(mode(dataDir.resolve(file))).as(file).isEqualTo("rw-------");
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"master.key", "admin.key", "tls/manager.key"})
  void aKeyFileOthersCanRead_isRefusedAtStart_sayingHowToFixIt_andNothingIsChanged(String keyFile) throws Exception {
    Path dataDir = root.resolve("tether-data");
    start(dataDir).close();
    Path key = dataDir.resolve(keyFile);
    Files.setPosixFilePermissions(key, PosixFilePermissions.fromString("rw-r--r--"));
    Map<String, String> before = snapshot(dataDir);

    assertThatThrownBy(() -> start(dataDir))
        .isInstanceOf(InsecureFileException.class)
        .hasMessageStartingWith("permissions 0644 for '" + key + "' are too open: other users can read it")
        .hasMessageEndingWith("refusing to use it. Fix: chmod 600 '" + key + "'");
    assertThat(snapshot(dataDir)).isEqualTo(before);
  }

  @Test
  void aDataDirectoryOthersCanWrite_isRefused_andNothingInItIsChanged() throws Exception {
    Path used = root.resolve("used");
    start(used).close();
    Path empty = Files.createDirectory(root.resolve("empty"));
    for (Path dataDir : List.of(used, empty)) {
      Files.setPosixFilePermissions(dataDir, PosixFilePermissions.fromString("rwxrwxrwx"));
      Map<String, String> before = snapshot(dataDir);

      assertThatThrownBy(() -> start(dataDir))
          .isInstanceOf(InsecureFileException.class)
          .hasMessageStartingWith("permissions 0777 for data directory '" + dataDir + "' are too open:"
              + " other users can write to it")
          .hasMessageEndingWith("Fix: chmod 700 '" + dataDir + "'");
      assertThat(snapshot(dataDir)).isEqualTo(before);
      assertThat(mode(dataDir)).isEqualTo("rwxrwxrwx");
    }
  }

  @Test
  void aDataDirectoryOthersCanList_isUsedWithOneWarning() throws Exception {
    Path dataDir = Files.createDirectory(root.resolve("group-data"));
    Files.setPosixFilePermissions(dataDir, PosixFilePermissions.fromString("rwxr-x---"));
    try (LogCapture log = new LogCapture(DataDirectory.class); ManagerServer server = start(dataDir)) {
      assertThat(server.listenAddress().getPort()).isPositive();
      assertThat(log.warnings()).containsExactly("data directory '" + dataDir + "' has permissions 0750: other"
          + " users can list it (its key and database files are 0600). If no group is meant to, run: chmod 700 '"
          + dataDir + "'");
    }
    assertThat(mode(dataDir)).isEqualTo("rwxr-x---");
    assertThat(mode(dataDir.resolve("master.key"))).isEqualTo("rw-------");
  }

  @Test
  void anEmptyMasterKeyLeftByAnInterruptedOlderVersion_isRefusedSayingWhatToDo() throws Exception {
    Path dataDir = Files.createDirectory(root.resolve("interrupted"));
    Path masterKey = Files.createFile(dataDir.resolve("master.key"),
        PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));

    assertThatThrownBy(() -> start(dataDir))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageStartingWith("master key file '" + masterKey + "' is empty: an older version was interrupted"
            + " while creating it")
        .hasMessageContaining("delete the file and start again")
        .hasMessageContaining("otherwise restore it from backup");
  }

  @Test
  void anEmptyAdminKeyLeftByAnInterruptedOlderVersion_isRefusedSayingWhatToDo() throws Exception {
    Path dataDir = root.resolve("interrupted");
    start(dataDir).close();
    Path adminKey = dataDir.resolve("admin.key");
    Files.write(adminKey, new byte[0]);

    assertThatThrownBy(() -> start(dataDir))
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("admin key file '" + adminKey + "' is empty: an older version was interrupted while creating"
            + " it. Delete the file and start again to generate a new admin key");
  }

  @Test
  void theOperatorsOwnTlsKeyThatOthersCanRead_isUsedWithAWarning() throws Exception {
    TlsMaterial generated = TlsMaterial.loadOrGenerate(root.resolve("ca"), List.of());
    Path mounted = Files.createDirectory(root.resolve("mounted-secret"));
    Path cert = Files.copy(generated.certificate(), mounted.resolve("tls.crt"));
    Path key = Files.copy(generated.privateKey(), mounted.resolve("tls.key"));
    Files.setPosixFilePermissions(key, PosixFilePermissions.fromString("rw-r--r--"));

    try (LogCapture log = new LogCapture(TlsMaterial.class); ManagerServer server = start(root.resolve("d"), cert, key)) {
      assertThat(server.listenAddress().getPort()).isPositive();
      assertThat(log.warnings()).singleElement().asString()
          .startsWith("--tls-key: permissions 0644 for '" + key + "' are too open")
          .endsWith("Fix: chmod 600 '" + key + "' (used anyway: it is your file)");
    }
  }

  /** Every entry under {@code dir}: its mode, size and a digest of its content. */
  private static Map<String, String> snapshot(Path dir) throws Exception {
    Map<String, String> out = new TreeMap<>();
    try (Stream<Path> paths = Files.walk(dir)) {
      for (Path p : paths.toList()) {
        if (p.getFileName().toString().equals("manager.lock")) {
          continue; // rewritten by every start, refused or not: it names the manager holding the directory
        }
        String entry = mode(p);
        if (Files.isRegularFile(p)) {
          entry += " " + Files.size(p) + " " + HexFormat.of().formatHex(
              MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(p)))
              + " " + Files.getLastModifiedTime(p);
        }
        out.put(dir.relativize(p).toString(), entry);
      }
    }
    return out;
  }

  private static String mode(Path path) throws Exception {
    return PosixFilePermissions.toString(Files.getPosixFilePermissions(path));
  }
}
