package dev.tether.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The data directory as an operator meets it with the real jar: a second manager started on a
 * directory in use is refused in a few lines naming the first (no database stack trace, no stray
 * H2 trace file), and the first goes on serving; a directory that cannot be created is named with
 * the reason.
 */
class DataDirectoryEndToEndTest {

  @TempDir static Path work;
  private static Tether tether;

  @BeforeAll
  static void start() {
    tether = new Tether(work.resolve("data"), "DataDirectoryEndToEndTest").start();
  }

  @AfterAll
  static void stop() {
    if (tether != null) {
      tether.close();
    }
  }

  @Test
  void aSecondManagerOnTheSameDataDirectory_isRefusedNamingTheFirst_andTheFirstGoesOn() {
    Tether.Result second = tether.rawCli(null, "serve", "--listen", "127.0.0.1:0", "--admin-listen", "127.0.0.1:0",
        "--data-dir", tether.dataDir.toString());

    assertThat(second.exit()).isNotZero();
    assertThat(second.err()).contains("error: data directory '" + tether.dataDir + "' is in use by another manager"
        + " (pid " + tether.manager().pid() + ", started ")
        .contains("Stop that one first, or give this one its own --data-dir")
        .doesNotContain("server mode").doesNotContain("Exception").doesNotContain("\tat ");
    assertThat(second.err().lines().count()).as("stderr: %s", second.err()).isLessThanOrEqualTo(3);
    assertThat(tether.dataDir.resolve("tether.trace.db")).doesNotExist();
    assertThat(tether.cli("account", "list").ok().exit()).as("the first manager still serves").isZero();
  }

  @Test
  void aDataDirectoryThatCannotBeCreated_isNamedWithTheReason() {
    Tether.Result result = tether.rawCli(null, "serve", "--listen", "127.0.0.1:0", "--admin-listen", "127.0.0.1:0",
        "--data-dir", "/proc/tether");

    assertThat(result.exit()).isNotZero();
    assertThat(result.err()).startsWith("error: cannot create the data directory '/proc/tether' (at '/proc/tether': ")
        .contains("choose a --data-dir (or TETHER_DATA_DIR) this user can create and write").doesNotContain("\tat ");
    assertThat(Files.exists(Path.of("/proc/tether"))).isFalse();
  }
}
