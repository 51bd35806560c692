package dev.tether.common.logging;

import dev.tether.common.text.UserText;
import dev.tether.common.token.Secrets;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * The log levels {@code TETHER_LOG_LEVEL} may name, checked by both programs at start: logback
 * would take any other word as DEBUG without a word, so a typo would silently turn on debug logs.
 */
public final class LogLevels {

  /** The environment variable both programs read their log level from. */
  public static final String VARIABLE = "TETHER_LOG_LEVEL";

  /** The valid levels, any case; unset or blank means INFO. */
  public static final List<String> LEVELS = List.of("TRACE", "DEBUG", "INFO", "WARN", "ERROR", "OFF");

  private LogLevels() {}

  /**
   * The level {@code value} of {@link #VARIABLE} names, in upper case without surrounding blanks
   * (INFO when unset or blank), or empty when it names none.
   */
  public static Optional<String> level(String value) {
    if (value == null || value.isBlank()) {
      return Optional.of("INFO");
    }
    String upper = value.strip().toUpperCase(Locale.ROOT);
    return LEVELS.contains(upper) ? Optional.of(upper) : Optional.empty();
  }

  /** Why {@code value} of {@link #VARIABLE} is refused, or empty if it is a level or unset. */
  public static Optional<String> problem(String value) {
    if (level(value).isPresent()) {
      return Optional.empty();
    }
    // a value shaped like a token is not echoed, wherever it was put by mistake
    String shown = Secrets.looksLikeToken(value) ? "(a value shaped like a delegate token)" : UserText.quote(value);
    return Optional.of(VARIABLE + " " + shown + " is not a level (expected one of " + String.join(", ", LEVELS) + ")");
  }
}
