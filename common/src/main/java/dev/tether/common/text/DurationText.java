package dev.tether.common.text;

import java.time.Duration;

/** Durations as an operator writes them, for messages: {@code 90s} as {@code 1m30s}, {@code 3650d}. */
public final class DurationText {

  private DurationText() {}

  /** {@code d} in days, hours, minutes, seconds and milliseconds, largest first, zero parts left out. */
  public static String format(Duration d) {
    if (d.isNegative()) {
      return "-" + format(d.negated());
    }
    if (d.isZero()) {
      return "0s";
    }
    StringBuilder out = new StringBuilder();
    append(out, d.toDays(), "d");
    append(out, d.toHoursPart(), "h");
    append(out, d.toMinutesPart(), "m");
    append(out, d.toSecondsPart(), "s");
    append(out, d.toMillisPart(), "ms");
    return out.toString();
  }

  private static void append(StringBuilder out, long amount, String unit) {
    if (amount > 0) {
      out.append(amount).append(unit);
    }
  }
}
