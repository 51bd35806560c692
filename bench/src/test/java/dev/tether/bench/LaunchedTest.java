package dev.tether.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The startup scenario's handle on a launched program: the line waited for is read from the right
 * stream as it comes, SIGTERM reaches a program behind a launcher that does not exec, and the
 * memory figures are read from /proc as the kernel writes them.
 */
class LaunchedTest {

  @TempDir Path logs;

  @Test
  void awaitLine_takesTheFirstMatchingLineOfTheChosenStreamOnly() throws Exception {
    // the same words on stdout first: waiting on stderr must not take them
    try (Launched p = Launched.start("both", List.of("bash", "-c",
        "echo 'ready (stdout)'; echo noise >&2; echo 'ready (stderr)' >&2; echo 'ready again' >&2; exec sleep 60"),
        Map.of(), logs, Launched.Stream.STDERR, line -> line.startsWith("ready"))) {

      Launched.Line line = p.awaitLine(Duration.ofSeconds(30));

      assertThat(line.text()).isEqualTo("ready (stderr)");
      // the later matching line is written too before the stop (a SIGTERM right after the first
      // match could end the script before it echoes it): the first match is still the answer
      await("the script's last line logged").atMost(Duration.ofSeconds(30))
          .until(() -> Files.readAllLines(p.stderrLog()).contains("ready again"));
      assertThat(p.stop(Duration.ofSeconds(30))).isEqualTo(143);
      assertThat(Files.readAllLines(p.stdoutLog())).containsExactly("ready (stdout)");
      assertThat(Files.readAllLines(p.stderrLog())).containsExactly("noise", "ready (stderr)", "ready again");
    }
  }

  @Test
  void awaitLine_failsAtOnceWhenTheProgramEndsWithoutTheLine() throws Exception {
    try (Launched p = Launched.start("quitter", List.of("bash", "-c", "echo 'something else'; exit 3"), Map.of(),
        logs, Launched.Stream.STDOUT, line -> line.startsWith("ready"))) {

      assertThatThrownBy(() -> p.awaitLine(Duration.ofMinutes(5)))
          .hasMessageContaining("quitter ended its output without the line waited for")
          .hasMessageContaining(p.stdoutLog().toString());
    }
  }

  @Test
  void stop_reachesTheProgramBehindALauncherThatWaitsForIt() throws Exception {
    // a launcher that traps TERM and waits for its child: a signal to the launcher alone would
    // leave it waiting the child's 300 s. The child itself says "started": it exists by then
    try (Launched p = Launched.start("waiting-launcher", List.of("bash", "-c",
        "trap 'exit 143' TERM; bash -c 'echo started; exec sleep 300'"), Map.of(), logs, Launched.Stream.STDOUT,
        line -> line.equals("started"))) {
      p.awaitLine(Duration.ofSeconds(30));

      int exit = p.stop(Duration.ofSeconds(20));

      assertThat(exit).isEqualTo(143);
      assertThat(p.isAlive()).isFalse();
    }
  }

  @Test
  void environment_dropsInheritedLauncherAndTetherSettings_andAddsTheRunsOwn() {
    ProcessBuilder builder = new ProcessBuilder("true");
    builder.environment().putAll(Map.of("JAVA_OPTS", "-Xmx1g", "TETHER_CDS", "off", "DELEGATE_TOKEN", "x",
        "MANAGER_CA_FILE", "/ca", "ACCOUNT_ID", "a", "KEPT", "yes"));

    Launched.environment(builder, Map.of("DELEGATE_NAME", "n"));

    assertThat(builder.environment()).containsEntry("KEPT", "yes").containsEntry("DELEGATE_NAME", "n")
        .doesNotContainKeys("JAVA_OPTS", "TETHER_CDS", "DELEGATE_TOKEN", "MANAGER_CA_FILE", "ACCOUNT_ID");
  }

  @Test
  void memory_readsTheKernelsFiguresInBytes() throws Exception {
    Map<String, Long> mine = Launched.memory(Files.readAllLines(Path.of("/proc/self/status")));

    assertThat(mine.get("VmRSS")).isPositive();
    // the kernel's resident set is exactly its anonymous, file and shared memory parts
    assertThat(mine.get("RssAnon") + mine.get("RssFile") + mine.get("RssShmem")).isEqualTo(mine.get("VmRSS"));
    assertThat(Launched.memory(List.of("Name:\tjava", "VmRSS:\t  1234 kB", "Threads:\t12")))
        .containsExactly(Map.entry("VmRSS", 1234L * 1024));
  }
}
