package dev.tether.common.logging;

import static net.logstash.logback.argument.StructuredArguments.value;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.spi.ILoggingEvent;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tether.common.testing.ProgramLogs;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.slf4j.event.KeyValuePair;

/**
 * What {@code TETHER_LOG_FORMAT} gives with a program's own logging configuration: text lines exactly as
 * before JSON logs existed, or one JSON object per line with the fields docs/observability.md
 * lists, structured arguments as fields, and a switch at run time. Each program runs it against
 * its configuration (the manager's logback.xml, the delegate's configurator) by extending it.
 */
public abstract class LogFormatContract {

  /** The text lines' pattern before TETHER_LOG_FORMAT existed: text output must not change. */
  private static final String TEXT_PATTERN_BEFORE = "%d{yyyy-MM-dd'T'HH:mm:ss.SSSX,UTC} %-5level %logger{20} - %msg%n";

  private static final ObjectMapper MAPPER = new ObjectMapper();
  private static final String LOGGER = "dev.tether.manager.auth.HandshakeService";

  private ProgramLogs logs;

  /** Logs through the program's own configuration (its logback.xml, or its configurator in code) with {@code variables}. */
  protected abstract ProgramLogs programLogs(Map<String, String> variables) throws Exception;

  @AfterEach
  void closeLogs() {
    if (logs != null) {
      logs.close();
    }
  }

  private ProgramLogs configure(String... variables) throws Exception {
    Map<String, String> map = new HashMap<>();
    for (int i = 0; i < variables.length; i += 2) {
      map.put(variables[i], variables[i + 1]);
    }
    logs = programLogs(map);
    return logs;
  }

  /** An accepted handshake with MDC and a structured argument, a failure with its exception, a message of two lines. */
  private static void logAFewLines(ProgramLogs logs) {
    Logger log = logs.logger(LOGGER);
    logs.context().getMDCAdapter().put("replica", "rep_1");
    log.info("handshake accepted for account {}", value("account", "acc_x"));
    logs.context().getMDCAdapter().remove("replica");
    log.error("store commit failed", new IllegalStateException("disk full"));
    log.warn("refused: \"bad proof\"\nsecond line");
  }

  private static JsonNode json(String line) {
    try {
      JsonNode node = MAPPER.readTree(line);
      assertThat(node.isObject()).as("a JSON object: %s", line).isTrue();
      return node;
    } catch (java.io.IOException e) {
      throw new AssertionError("not JSON: " + line, e);
    }
  }

  private static List<String> fieldNames(JsonNode node) {
    List<String> names = new ArrayList<>();
    node.fieldNames().forEachRemaining(names::add);
    return names;
  }

  @Test
  public void text_isTheDefault_andEveryLineIsWhatThePatternOfBeforeGives() throws Exception {
    ProgramLogs logs = configure();
    assertThat(LogOutput.format(logs.context())).isEqualTo(LogFormats.TEXT);

    logAFewLines(logs);

    PatternLayoutEncoder before = new PatternLayoutEncoder();
    before.setContext(logs.context());
    before.setPattern(TEXT_PATTERN_BEFORE);
    before.start();
    ByteArrayOutputStream expected = new ByteArrayOutputStream();
    for (ILoggingEvent event : logs.events()) {
      expected.writeBytes(before.encode(event));
    }
    assertThat(logs.events()).hasSize(3);
    assertThat(logs.stderr()).isEqualTo(expected.toString(StandardCharsets.UTF_8));
    assertThat(logs.lines().get(0)).matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z INFO  d\\.t\\.m\\.a\\."
        + "HandshakeService - handshake accepted for account acc_x");
    assertThat(logs.stderr()).contains("java.lang.IllegalStateException: disk full").contains("\tat ");
  }

  @Test
  public void text_namedInAnyCase_isText() throws Exception {
    ProgramLogs logs = configure("TETHER_LOG_FORMAT", " Text ");
    logs.logger(LOGGER).info("plain");
    assertThat(logs.lines()).singleElement().asString().endsWith(" INFO  d.t.m.a.HandshakeService - plain");
  }

  @Test
  public void json_writesOneObjectPerLine_withTimestampLevelLoggerThreadMessageMdcAndStackTrace() throws Exception {
    ProgramLogs logs = configure("TETHER_LOG_FORMAT", "JSON");
    assertThat(LogOutput.format(logs.context())).isEqualTo(LogFormats.JSON);

    logAFewLines(logs);

    List<String> lines = logs.lines();
    assertThat(lines).hasSize(logs.events().size()).hasSize(3);
    JsonNode accepted = json(lines.get(0));
    assertThat(fieldNames(accepted)).containsExactly("@timestamp", "level", "logger", "thread", "message", "replica",
        "account");
    assertThat(accepted.get("@timestamp").asText()).matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z");
    assertThat(Instant.parse(accepted.get("@timestamp").asText()))
        .isEqualTo(Instant.ofEpochMilli(logs.events().get(0).getTimeStamp()));
    assertThat(accepted.get("level").asText()).isEqualTo("INFO");
    assertThat(accepted.get("logger").asText()).isEqualTo(LOGGER);
    assertThat(accepted.get("thread").asText()).isEqualTo(Thread.currentThread().getName());
    assertThat(accepted.get("message").asText()).isEqualTo("handshake accepted for account acc_x");
    assertThat(accepted.get("replica").asText()).isEqualTo("rep_1");

    JsonNode failed = json(lines.get(1));
    assertThat(fieldNames(failed)).containsExactly("@timestamp", "level", "logger", "thread", "message", "stack_trace");
    assertThat(failed.get("level").asText()).isEqualTo("ERROR");
    assertThat(failed.get("stack_trace").asText()).startsWith("java.lang.IllegalStateException: disk full")
        .contains("\tat ");

    JsonNode twoLines = json(lines.get(2));
    assertThat(twoLines.get("level").asText()).isEqualTo("WARN");
    assertThat(twoLines.get("message").asText()).isEqualTo("refused: \"bad proof\"\nsecond line");
  }

  @Test
  public void structuredArgument_isATopLevelFieldInJson_andOnlyItsValueInText() throws Exception {
    ProgramLogs text = configure();
    text.logger(LOGGER).info("handshake accepted for account {}", value("account", "acc_x"));
    assertThat(text.lines()).singleElement().asString().endsWith(" - handshake accepted for account acc_x");
    text.close();

    ProgramLogs json = configure("TETHER_LOG_FORMAT", "json");
    json.logger(LOGGER).info("handshake accepted for account {}", value("account", "acc_x"));
    String line = json.lines().get(0);
    assertThat(line).contains("\"account\":\"acc_x\"");
    assertThat(json(line).get("message").asText()).isEqualTo("handshake accepted for account acc_x");
  }

  @Test
  public void switchingAtRunTime_writesTheFollowingLinesInTheOtherFormat() throws Exception {
    ProgramLogs logs = configure();
    Logger log = logs.logger(LOGGER);
    log.info("before the switch");

    LogOutput.use(logs.context(), "JSON");
    log.info("after the switch");
    LogOutput.use(logs.context(), "text");
    log.info("back to text");

    List<String> lines = logs.lines();
    assertThat(lines).hasSize(3);
    assertThat(lines.get(0)).endsWith(" - before the switch");
    assertThat(json(lines.get(1)).get("message").asText()).isEqualTo("after the switch");
    assertThat(lines.get(2)).endsWith(" - back to text");
  }

  @Test
  public void switchingToAFormatThatIsNone_isRefusedNamingTheFormats() throws Exception {
    ProgramLogs logs = configure();
    assertThatThrownBy(() -> LogOutput.use(logs.context(), "xml"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("'xml' is not a log format (expected text or json)");
    assertThat(LogOutput.format(logs.context())).isEqualTo(LogFormats.TEXT);
  }

  @Test
  public void printLine_isTheLineAsItIsInText_andAnObjectWithItsFieldsInJson_evenWithLogsOff() throws Exception {
    String exit = "tether-delegate exiting (78): delegate token tid_abc was revoked";
    ProgramLogs text = configure("TETHER_LOG_LEVEL", "OFF");
    LogOutput.printLine(text.context(), "dev.tether.delegate.TetherDelegate", Level.ERROR, exit,
        new KeyValuePair("exit_code", 78));
    assertThat(text.stderr()).isEqualTo(exit + System.lineSeparator());
    text.close();

    ProgramLogs json = configure("TETHER_LOG_LEVEL", "OFF", "TETHER_LOG_FORMAT", "json");
    LogOutput.printLine(json.context(), "dev.tether.delegate.TetherDelegate", Level.ERROR, exit,
        new KeyValuePair("exit_code", 78));
    JsonNode line = json(json.lines().get(0));
    assertThat(json.lines()).hasSize(1);
    assertThat(line.get("message").asText()).isEqualTo(exit);
    assertThat(line.get("level").asText()).isEqualTo("ERROR");
    assertThat(line.get("logger").asText()).isEqualTo("dev.tether.delegate.TetherDelegate");
    assertThat(line.get("exit_code").isInt()).isTrue();
    assertThat(line.get("exit_code").asInt()).isEqualTo(78);
  }
}
