package dev.tether.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code scripts/quickstart.sh} with its port taken by another program stops at once, naming the
 * port and how to pick others, instead of building, waiting a minute and saying "timed out".
 */
class QuickstartPortTest {

  private static final Path QUICKSTART = Path.of(System.getProperty("tether.repo", ".."), "scripts", "quickstart.sh");

  @TempDir Path tmp;

  @Test
  void aBusyPort_stopsTheQuickstartBeforeItBuilds_namingThePortAndTheWayOut() throws Exception {
    try (ServerSocket busy = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
      int port = busy.getLocalPort();
      ProcessBuilder builder = new ProcessBuilder("bash", QUICKSTART.toString())
          .redirectErrorStream(true).redirectOutput(tmp.resolve("out.txt").toFile());
      builder.environment().put("TETHER_QUICKSTART_PORT", Integer.toString(port));
      builder.environment().put("TMPDIR", tmp.toString());
      Process process = builder.start();
      assertThat(process.waitFor(120, TimeUnit.SECONDS)).as("the quickstart stopped").isTrue();

      String out = Files.readString(tmp.resolve("out.txt"));
      assertThat(process.exitValue()).as(out).isEqualTo(1);
      assertThat(out).contains("quickstart FAILED: port " + port + " on 127.0.0.1 is already in use")
          .contains("TETHER_QUICKSTART_PORT=18443 scripts/quickstart.sh")
          .doesNotContain("timed out");
      assertThat(out).as("it stopped before the build").doesNotContain("built manager/target/tether-manager.jar");
    }
  }
}
