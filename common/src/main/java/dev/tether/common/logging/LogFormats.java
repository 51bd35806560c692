package dev.tether.common.logging;

import dev.tether.common.text.UserText;
import dev.tether.common.token.Secrets;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * The log formats {@code TETHER_LOG_FORMAT} (and {@code serve --log-format}) may name, checked by
 * both programs at start, as {@link LogLevels} checks levels: a typo must not quietly give text
 * logs to a pipeline that parses JSON.
 */
public final class LogFormats {

  /** The environment variable both programs read their log format from. */
  public static final String VARIABLE = "TETHER_LOG_FORMAT";

  /** One line of text per event, as Tether has always logged: the default. */
  public static final String TEXT = "text";

  /** One JSON object per line (docs/observability.md, "Logs"). */
  public static final String JSON = "json";

  /** The valid formats, any case; unset or blank means {@link #TEXT}. */
  public static final List<String> FORMATS = List.of(TEXT, JSON);

  private LogFormats() {}

  /**
   * The format {@code value} names, in lower case without surrounding blanks ({@link #TEXT} when
   * unset or blank), or empty when it names none.
   */
  public static Optional<String> format(String value) {
    if (value == null || value.isBlank()) {
      return Optional.of(TEXT);
    }
    String lower = value.strip().toLowerCase(Locale.ROOT);
    return FORMATS.contains(lower) ? Optional.of(lower) : Optional.empty();
  }

  /** Why {@code value} of {@link #VARIABLE} is refused, or empty if it is a format or unset. */
  public static Optional<String> problem(String value) {
    return format(value).isPresent() ? Optional.empty() : Optional.of(VARIABLE + " " + refusal(value));
  }

  /**
   * Why {@code value} is not a format, naming it and the formats there are, for a message that
   * says where the value came from: "'xml' is not a log format (expected text or json)".
   */
  public static String refusal(String value) {
    // a value shaped like a token is not echoed, wherever it was put by mistake
    String shown = Secrets.looksLikeToken(value) ? "(a value shaped like a delegate token)" : UserText.quote(value);
    return shown + " is not a log format (expected " + String.join(" or ", FORMATS) + ")";
  }
}
