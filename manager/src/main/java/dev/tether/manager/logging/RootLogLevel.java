package dev.tether.manager.logging;

import ch.qos.logback.core.PropertyDefinerBase;
import dev.tether.common.logging.LogLevels;
import java.util.Optional;

/**
 * Gives logback.xml the root level from {@code TETHER_LOG_LEVEL}, and ends the program at start
 * when the value is not a level: logback would take any other word as DEBUG and say nothing, so
 * {@code TETHER_LOG_LEVEL=LOUD} would silently turn on debug logs. This runs when the first logger
 * is made, before the manager opens its data directory or a port, and it halts rather than exits
 * because it runs inside logback's initialisation, which a shutdown hook that logs would wait on.
 */
public final class RootLogLevel extends PropertyDefinerBase {

  private String value;

  /** The configured value: {@code ${TETHER_LOG_LEVEL:-INFO}} in logback.xml. */
  public void setValue(String value) {
    this.value = value;
  }

  @Override
  public String getPropertyValue() {
    Optional<String> level = LogLevels.level(value);
    if (level.isEmpty()) {
      System.err.println("error: " + LogLevels.problem(value).orElseThrow());
      System.err.flush();
      Runtime.getRuntime().halt(1);
    }
    return level.orElseThrow();
  }
}
