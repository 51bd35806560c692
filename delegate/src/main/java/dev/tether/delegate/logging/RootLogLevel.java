package dev.tether.delegate.logging;

import ch.qos.logback.core.PropertyDefinerBase;
import dev.tether.common.logging.LogLevels;

/**
 * Gives logback.xml the root level from {@code TETHER_LOG_LEVEL} in any case and without
 * surrounding blanks. A value that is not a level gives INFO here, where logback alone would give
 * DEBUG, and the delegate refuses it at start ({@code TetherDelegate}) before it logs anything.
 */
public final class RootLogLevel extends PropertyDefinerBase {

  private String value;

  /** The configured value: {@code ${TETHER_LOG_LEVEL:-INFO}} in logback.xml. */
  public void setValue(String value) {
    this.value = value;
  }

  @Override
  public String getPropertyValue() {
    return LogLevels.level(value).orElse("INFO");
  }
}
