package dev.tether.manager.cli;

import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/** Parses durations as operators write them: {@code 500ms}, {@code 30s}, {@code 15m}, {@code 24h}, {@code 30d}. */
public final class Durations implements ITypeConverter<Duration> {

  private static final Pattern FORM = Pattern.compile("(\\d{1,9})(ms|s|m|h|d)");

  @Override
  public Duration convert(String value) {
    return parse(value);
  }

  public static Duration parse(String value) {
    Matcher m = FORM.matcher(value == null ? "" : value.strip());
    if (!m.matches()) {
      throw new TypeConversionException("'" + value + "' is not a duration (expected a number and"
          + " a unit: ms, s, m, h or d, for example 30s, 24h or 30d)");
    }
    long n = Long.parseLong(m.group(1));
    Duration d = switch (m.group(2)) {
      case "ms" -> Duration.ofMillis(n);
      case "s" -> Duration.ofSeconds(n);
      case "m" -> Duration.ofMinutes(n);
      case "h" -> Duration.ofHours(n);
      default -> Duration.ofDays(n);
    };
    if (d.isZero()) {
      throw new TypeConversionException("'" + value + "' is zero (expected a positive duration)");
    }
    return d;
  }
}
