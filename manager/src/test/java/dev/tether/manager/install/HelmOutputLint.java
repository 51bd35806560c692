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
 * Runs yamllint on the output of {@code helm template}, with the rules of {@link Linters} except
 * one: a sequence inside a mapping may start at the mapping's indentation, because Helm's
 * {@code toYaml} (go-yaml) always writes it so, as in every chart that passes values through.
 */
final class HelmOutputLint {

  private static final String CONFIG = "{extends: default, rules: {line-length: {max: 200}, document-start: disable,"
      + " comments: {min-spaces-from-content: 1}, indentation: {spaces: consistent, indent-sequences: whatever}}}";

  private HelmOutputLint() {}

  static void yamllint(Path file) {
    if (!onPath("yamllint")) {
      boolean required = "1".equals(System.getenv("TETHER_REQUIRE_LINTERS"));
      assertThat(required).as("yamllint is required (TETHER_REQUIRE_LINTERS=1) but not installed").isFalse();
      Assumptions.abort("yamllint is not installed; install it (apt-get install yamllint) to run this check");
    }
    List<String> command = new ArrayList<>(List.of("yamllint", "--strict", "-d", CONFIG, file.toString()));
    try {
      Path output = Files.createTempFile("yamllint", ".out");
      Process process = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(output.toFile()).start();
      assertThat(process.waitFor(60, TimeUnit.SECONDS)).isTrue();
      String text = Files.readString(output, StandardCharsets.UTF_8);
      Files.delete(output);
      assertThat(process.exitValue()).as("yamllint output:\n" + text).isZero();
    } catch (IOException e) {
      throw new AssertionError("yamllint could not run", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }

  private static boolean onPath(String tool) {
    for (String dir : System.getenv().getOrDefault("PATH", "").split(":")) {
      if (Files.isExecutable(Path.of(dir, tool))) {
        return true;
      }
    }
    return false;
  }
}
