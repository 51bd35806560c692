package dev.tether.manager.logging;

import ch.qos.logback.core.PropertyDefinerBase;
import dev.tether.common.logging.LogFormats;
import java.util.Optional;

/**
 * Gives logback.xml the log format from {@code TETHER_LOG_FORMAT}, and ends the program at start
 * when the value is not a format, as {@link RootLogLevel} does for the level: a log pipeline that
 * expects JSON would otherwise get text without a word. It halts rather than exits because it runs
 * inside logback's initialisation, which a shutdown hook that logs would wait on.
 */
public final class ConfiguredLogFormat extends PropertyDefinerBase {

  private String value;

  /** The configured value: {@code ${TETHER_LOG_FORMAT:-text}} in logback.xml. */
  public void setValue(String value) {
    this.value = value;
  }

  @Override
  public String getPropertyValue() {
    Optional<String> format = LogFormats.format(value);
    if (format.isEmpty()) {
      System.err.println("error: " + LogFormats.problem(value).orElseThrow());
      System.err.flush();
      Runtime.getRuntime().halt(1);
    }
    return format.orElseThrow();
  }
}
