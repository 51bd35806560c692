package dev.tether.manager.logging;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/**
 * {@code TETHER_LOG_FORMAT} read by the manager's own logback.xml in a JVM of its own, as the
 * manager reads it at start: a value that is no format ends the program naming the formats, as a
 * wrong {@code TETHER_LOG_LEVEL} does ({@link RootLogLevelTest}).
 */
class ConfiguredLogFormatTest {

  /** Makes the first logger, as the manager does at start, and logs one line. */
  public static final class Probe {
    public static void main(String[] args) {
      LoggerFactory.getLogger("dev.tether.manager.server.ManagerServer").info("manager started");
      System.out.println("probe done");
    }
  }

  private record Result(int exitCode, String out, String err) {}

  private static Result probe(String format) throws Exception {
    Path logbackXml = Path.of(ConfiguredLogFormat.class.getResource("/logback.xml").toURI());
    ProcessBuilder builder = new ProcessBuilder(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-Dlogback.configurationFile=" + logbackXml, "-cp", System.getProperty("java.class.path"), Probe.class.getName()));
    builder.environment().remove("TETHER_LOG_LEVEL");
    builder.environment().put("TETHER_LOG_FORMAT", format);
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
  void unknownFormat_endsTheProgramNamingTheFormats_beforeItLogsAnything() throws Exception {
    Result result = probe("xml");

    assertThat(result.exitCode()).isEqualTo(1);
    assertThat(result.out()).isEmpty();
    assertThat(result.err()).isEqualTo("error: TETHER_LOG_FORMAT 'xml' is not a log format (expected text or json)"
        + System.lineSeparator());
  }

  @Test
  void jsonInAnyCase_givesAJsonLine_andBlankGivesText() throws Exception {
    Result json = probe(" JSON ");
    assertThat(json.exitCode()).isZero();
    assertThat(json.err().lines().toList()).singleElement().satisfies(line -> {
      JsonNode node = new ObjectMapper().readTree(line);
      assertThat(node.get("message").asText()).isEqualTo("manager started");
      assertThat(node.get("logger").asText()).isEqualTo("dev.tether.manager.server.ManagerServer");
    });

    Result text = probe("");
    assertThat(text.exitCode()).isZero();
    assertThat(text.err()).matches("\\S+Z INFO  d\\.t\\.m\\.s\\.ManagerServer - manager started\\R");
  }
}
