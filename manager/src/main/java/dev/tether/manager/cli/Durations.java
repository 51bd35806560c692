package dev.tether.manager.cli;

import dev.tether.common.text.UserText;
import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/**
 * Parses durations as operators write them: a number and a unit ({@code 500ms}, {@code 90s},
 * {@code 15m}, {@code 24h}, {@code 7d}, {@code 2w}), or several in a row ({@code 1h30m},
 * {@code 1d12h}), and formats them back the same way.
 */
public final class Durations implements ITypeConverter<Duration> {

  private static final String UNIT = "(ms|w|d|h|m|s)";
  private static final Pattern WHOLE = Pattern.compile("(?:\\d{1,12}" + UNIT + ")+");
  private static final Pattern PART = Pattern.compile("(\\d{1,12})" + UNIT);
  private static final String EXPECTED = "expected a number and a unit (w, d, h, m, s or ms), or several in a row,"
      + " for example 90s, 15m, 1h30m, 7d or 2w";

  @Override
  public Duration convert(String value) {
    return parse(value);
  }

  public static Duration parse(String value) {
    return parse(value, false);
  }

  /** The same durations, and zero ({@code 0s}): for a grace period that may be none. */
  public static final class ZeroAllowed implements ITypeConverter<Duration> {
    @Override
    public Duration convert(String value) {
      return parse(value, true);
    }
  }

  static Duration parse(String value, boolean zeroAllowed) {
    String v = value == null ? "" : value.strip();
    if (!WHOLE.matcher(v).matches()) {
      throw new TypeConversionException(UserText.quote(String.valueOf(value)) + " is not a duration (" + EXPECTED + ")");
    }
    Duration total = Duration.ZERO;
    Matcher m = PART.matcher(v);
    try {
      while (m.find()) {
        long n = Long.parseLong(m.group(1));
        total = total.plus(switch (m.group(2)) {
          case "ms" -> Duration.ofMillis(n);
          case "s" -> Duration.ofSeconds(n);
          case "m" -> Duration.ofMinutes(n);
          case "h" -> Duration.ofHours(n);
          case "d" -> Duration.ofDays(n);
          default -> Duration.ofDays(Math.multiplyExact(n, 7L));
        });
      }
      // every use of a duration here is in milliseconds: one that does not fit is refused now
      total.toMillis();
    } catch (ArithmeticException e) {
      throw new TypeConversionException(UserText.quote(value) + " is too long to be a duration (" + EXPECTED + ")");
    }
    if (total.isZero() && !zeroAllowed) {
      throw new TypeConversionException(UserText.quote(value) + " is zero (expected a positive duration, for example 30s)");
    }
    return total;
  }

  /** {@code d} as an operator writes it: {@code 90s} as {@code 1m30s}, {@code 3650d}, {@code 1500ms} as {@code 1s500ms}. */
  public static String format(Duration d) {
    return dev.tether.common.text.DurationText.format(d);
  }
}
