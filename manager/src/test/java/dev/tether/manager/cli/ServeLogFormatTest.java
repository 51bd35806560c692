package dev.tether.manager.cli;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * {@code serve --log-format}: the formats it takes, and a wrong one refused by the command line
 * before the manager starts. That the switch makes serve's logs JSON from its first line is shown
 * by JsonLogsEndToEndTest on the real jar.
 */
class ServeLogFormatTest {

  @TempDir Path root;

  @Test
  void aFormatThatIsNone_isRefusedNamingTheFormats_andNothingStarts() {
    Path dataDir = root.resolve("data");
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    PrintStream original = System.err;
    int exit;
    System.setErr(new PrintStream(err, true, UTF_8));
    try {
      // were the value taken, serve would start and block: the timeout turns that into a failure
      exit = assertTimeoutPreemptively(Duration.ofSeconds(60), () -> TetherManagerCli.run(
          "serve", "--log-format", "xml", "--listen", "127.0.0.1:0", "--admin-listen", "off",
          "--data-dir", dataDir.toString()));
    } finally {
      System.setErr(original);
    }
    assertThat(exit).isEqualTo(2);
    assertThat(err.toString(UTF_8)).startsWith("error: Invalid value for option '--log-format': 'xml' is not a log"
        + " format (expected text or json)" + System.lineSeparator());
    assertThat(dataDir).doesNotExist();
  }

  @Test
  void anEmptyFormat_isRefusedToo() {
    CommandLine command = new CommandLine(new ServeCommand());
    CommandLine.ParameterException refused = org.junit.jupiter.api.Assertions.assertThrows(
        CommandLine.ParameterException.class, () -> command.parseArgs("--log-format", ""));
    assertThat(refused).hasMessage("Invalid value for option '--log-format': '' is not a log format (expected text"
        + " or json)");
  }

  @Test
  void textAndJson_areTakenInAnyCase_andUnsetLeavesTheVariableToDecide() {
    assertThat(parse("--log-format", "JSON").logFormat).isEqualTo("json");
    assertThat(parse("--log-format", "text").logFormat).isEqualTo("text");
    assertThat(parse().logFormat).isNull();
  }

  @Test
  void theHelp_namesTheFlagAndTheVariable() {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    CommandLine command = new CommandLine(new ServeCommand());
    command.setOut(new PrintWriter(out, true, UTF_8));
    command.execute("--help");
    assertThat(out.toString(UTF_8).replaceAll("\\s+", " ")).contains("--log-format=text|json")
        .contains("Default: the environment variable TETHER_LOG_FORMAT, else text.");
  }

  private static ServeCommand parse(String... args) {
    ServeCommand serve = new ServeCommand();
    new CommandLine(serve).parseArgs(args);
    return serve;
  }
}
