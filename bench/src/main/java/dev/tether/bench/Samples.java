package dev.tether.bench;

import java.util.Arrays;

/**
 * Repeated measurements of one thing (run times in nanoseconds, sizes in bytes), summed up as
 * median, p90 (nearest rank: the value that 90 % of the samples do not exceed), min and max.
 */
final class Samples {

  private final long[] sorted;

  Samples(long[] values) {
    if (values.length == 0) {
      throw new IllegalArgumentException("no samples to sum up");
    }
    sorted = values.clone();
    Arrays.sort(sorted);
  }

  int count() {
    return sorted.length;
  }

  double median() {
    int n = sorted.length;
    return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0;
  }

  double p90() {
    return sorted[(int) Math.ceil(0.9 * sorted.length) - 1];
  }

  long min() {
    return sorted[0];
  }

  long max() {
    return sorted[sorted.length - 1];
  }
}
