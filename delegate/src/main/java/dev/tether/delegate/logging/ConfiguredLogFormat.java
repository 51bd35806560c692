package dev.tether.delegate.logging;

import ch.qos.logback.core.PropertyDefinerBase;
import dev.tether.common.logging.LogFormats;

/**
 * Gives logback.xml the log format from {@code TETHER_LOG_FORMAT} in any case and without
 * surrounding blanks. A value that is not a format gives text here, and the delegate refuses it at
 * start ({@code TetherDelegate}) with its exit line, before it logs anything.
 */
public final class ConfiguredLogFormat extends PropertyDefinerBase {

  private String value;

  /** The configured value: {@code ${TETHER_LOG_FORMAT:-text}} in logback.xml. */
  public void setValue(String value) {
    this.value = value;
  }

  @Override
  public String getPropertyValue() {
    return LogFormats.format(value).orElse(LogFormats.TEXT);
  }
}
