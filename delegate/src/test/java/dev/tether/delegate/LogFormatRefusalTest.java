package dev.tether.delegate;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** {@code TETHER_LOG_FORMAT} checked by the delegate at start, before any configuration is read. */
class LogFormatRefusalTest {

  /** Runs the command with {@code env}; returns its exit code and what it printed on stderr. */
  private static Map.Entry<Integer, String> run(Map<String, String> env) {
    PrintStream before = System.err;
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
    try {
      int code = new CommandLine(new TetherDelegate(env)).execute();
      return Map.entry(code, err.toString(StandardCharsets.UTF_8));
    } finally {
      System.setErr(before);
    }
  }

  @Test
  void unknownLogFormat_isRefusedWithTheFormats() {
    Map.Entry<Integer, String> result = run(Map.of("TETHER_LOG_FORMAT", "xml"));

    assertThat(result.getKey()).isEqualTo(1);
    assertThat(result.getValue()).isEqualTo("tether-delegate exiting (1): configuration error: TETHER_LOG_FORMAT"
        + " 'xml' is not a log format (expected text or json)" + System.lineSeparator());
  }

  @Test
  void textOrJsonInAnyCase_passesOnToTheConfiguration() {
    for (String format : new String[] {"json", "TEXT", " Json ", ""}) {
      Map.Entry<Integer, String> result = run(Map.of("TETHER_LOG_FORMAT", format));

      assertThat(result.getKey()).isEqualTo(1);
      assertThat(result.getValue()).as(format).startsWith("tether-delegate exiting (1): configuration error:"
          + " ACCOUNT_ID is not set");
    }
  }
}
