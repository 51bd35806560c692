package dev.tether.manager.install;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;

/**
 * Runs shellcheck, yamllint and systemd-analyze on generated files. CI installs both and sets
 * TETHER_REQUIRE_LINTERS=1, so there a missing linter fails the test; on a developer machine
 * without them the check is skipped with a message saying so.
 */
final class Linters {

  private static final String YAMLLINT_CONFIG =
      "{extends: default, rules: {line-length: {max: 200}, document-start: disable, comments: {min-spaces-from-content: 1}}}";

  private Linters() {}

  static void shellcheck(Path... files) {
    List<String> command = new ArrayList<>(List.of("shellcheck", "--shell=sh", "--severity=style"));
    for (Path f : files) {
      command.add(f.toString());
    }
    run("shellcheck", command);
  }

  static void yamllint(Path... files) {
    List<String> command = new ArrayList<>(List.of("yamllint", "--strict", "-d", YAMLLINT_CONFIG));
    for (Path f : files) {
      command.add(f.toString());
    }
    run("yamllint", command);
  }

  /** What {@code systemd-analyze ARGS} printed (stdout and stderr) and its exit code. */
  record Analysis(int exit, String output) { }

  /** Runs {@code systemd-analyze ARGS} in {@code dir}, for the caller to judge its exit and output. */
  static Analysis systemdAnalyze(Path dir, String... args) throws IOException, InterruptedException {
    require("systemd-analyze", "systemd");
    List<String> command = new ArrayList<>(List.of("systemd-analyze"));
    command.addAll(List.of(args));
    Path output = Files.createTempFile(dir, "analyze", ".out");
    Process process = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true)
        .redirectOutput(output.toFile()).start();
    assertThat(process.waitFor(120, TimeUnit.SECONDS)).isTrue();
    return new Analysis(process.exitValue(), Files.readString(output, StandardCharsets.UTF_8));
  }

  /** Fails where linters are required (TETHER_REQUIRE_LINTERS=1) and {@code tool} is missing, else skips. */
  private static void require(String tool, String debianPackage) {
    if (!available(tool)) {
      boolean required = "1".equals(System.getenv("TETHER_REQUIRE_LINTERS"));
      assertThat(required).as(tool + " is required (TETHER_REQUIRE_LINTERS=1) but not installed").isFalse();
      Assumptions.abort(tool + " is not installed; install it (apt-get install " + debianPackage + ") to run this check");
    }
  }

  private static void run(String tool, List<String> command) {
    require(tool, tool);
    try {
      Path output = Files.createTempFile(tool, ".out");
      Process process = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(output.toFile()).start();
      assertThat(process.waitFor(60, TimeUnit.SECONDS)).isTrue();
      String text = Files.readString(output, StandardCharsets.UTF_8);
      Files.delete(output);
      assertThat(process.exitValue()).as(tool + " output:\n" + text).isZero();
    } catch (IOException e) {
      throw new AssertionError(tool + " could not run", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }

  private static boolean available(String tool) {
    for (String dir : System.getenv().getOrDefault("PATH", "").split(":")) {
      if (Files.isExecutable(Path.of(dir, tool))) {
        return true;
      }
    }
    return false;
  }
}
