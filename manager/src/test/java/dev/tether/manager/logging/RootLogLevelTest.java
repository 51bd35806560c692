package dev.tether.manager.logging;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Logger;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/**
 * Tether issue 13: {@code TETHER_LOG_LEVEL=LOUD} silently gave DEBUG logs. The manager's own
 * logback.xml, in a JVM of its own (it ends the program), refuses it with the valid levels.
 */
class RootLogLevelTest {

  /** Makes the first logger, as the manager does at start, and prints the root level it got. */
  public static final class Probe {
    public static void main(String[] args) {
      Logger root = (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
      System.out.println(root.getLevel());
    }
  }

  private record Result(int exitCode, String out, String err) {}

  private static Result probe(String level) throws Exception {
    Path logbackXml = Path.of(RootLogLevel.class.getResource("/logback.xml").toURI());
    List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-Dlogback.configurationFile=" + logbackXml, "-cp", System.getProperty("java.class.path"),
        Probe.class.getName()));
    ProcessBuilder builder = new ProcessBuilder(command);
    builder.environment().put("TETHER_LOG_LEVEL", level);
    Process process = builder.start();
    CompletableFuture<String> out = read(process.getInputStream());
    CompletableFuture<String> err = read(process.getErrorStream());
    assertThat(process.waitFor(60, TimeUnit.SECONDS)).as("probe ended").isTrue();
    return new Result(process.exitValue(), out.get(10, TimeUnit.SECONDS), err.get(10, TimeUnit.SECONDS));
  }

  private static CompletableFuture<String> read(java.io.InputStream in) {
    return CompletableFuture.supplyAsync(() -> {
      try {
        return new String(in.readAllBytes(), StandardCharsets.UTF_8);
      } catch (IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
    });
  }

  @Test
  void unknownLevel_endsTheProgramNamingTheValidLevels() throws Exception {
    Result result = probe("LOUD");

    assertThat(result.exitCode()).isEqualTo(1);
    assertThat(result.out()).isEmpty();
    assertThat(result.err()).isEqualTo("error: TETHER_LOG_LEVEL 'LOUD' is not a level (expected one of TRACE, DEBUG,"
        + " INFO, WARN, ERROR, OFF)" + System.lineSeparator());
  }

  @Test
  void levelInAnyCase_isTheRootLevel() throws Exception {
    Result debug = probe("debug");
    assertThat(debug.exitCode()).isEqualTo(0);
    assertThat(debug.out().strip()).isEqualTo("DEBUG");
    assertThat(probe(" Warn ").out().strip()).isEqualTo("WARN");
    assertThat(probe("").out().strip()).isEqualTo("INFO");
  }
}
