package dev.tether.manager.logging;

/** Durations in log lines. */
public final class Millis {

  private Millis() { }

  /**
   * {@code nanos} as milliseconds with one decimal, "12.3", in every locale. {@code String.format}
   * read the locale, and took 7 % of a revoke's time on its thread (docs/benchmarks.md).
   */
  public static String of(long nanos) {
    long tenths = Math.round(Math.max(0, nanos) / 100_000.0);
    return (tenths / 10) + "." + (tenths % 10);
  }
}
