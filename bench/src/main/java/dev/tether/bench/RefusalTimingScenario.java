package dev.tether.bench;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Does the time from Begin to Challenge tell an attacker whether an account or a token id exists?
 * Against a real manager over TLS, in a {@link BenchServer} process of its own (failed handshakes
 * not limited per address, as they are what is measured), a {@link RefusalTimingWorker} process
 * times Begin to Challenge for a known token, an unknown token id of a known account, and an
 * unknown account, interleaved; this JVM reports for each the mean of the fastest half (the least
 * disturbed by the machine) and the differences.
 */
final class RefusalTimingScenario {

  private static final int WARMUP = 150;
  private static final Duration ANSWER = Duration.ofMinutes(10);

  private RefusalTimingScenario() {}

  static void run(boolean quick) throws Exception {
    int rounds = quick ? 100 : 300;
    Path root = Files.createTempDirectory("tether-bench-refusal-timing");
    System.out.println("data and logs: " + root);
    try (Target manager = Target.start("tether", "tether", root, false, List.of("--open-failure-limits"))) {
      Child timing = manager.startRefusalTimingWorker();
      Map<String, String> answer = timing.call("measure " + rounds + " " + WARMUP, ANSWER);
      String[] names = RefusalTimingWorker.KINDS.toArray(String[]::new);
      double[] fastestHalf = new double[3];
      StringBuilder json = new StringBuilder("{\"scenario\":\"refusal-timing\",\"quick\":" + quick + ",\"rounds\":" + rounds);
      System.out.printf("Begin to Challenge over TLS, %d rounds each, mean of the fastest half:%n", rounds);
      for (int k = 0; k < 3; k++) {
        long[] sorted = Arrays.stream(answer.get(names[k]).split(",")).mapToLong(Long::parseLong).sorted().toArray();
        if (sorted.length != rounds) {
          throw new IllegalStateException("the timing worker answered " + sorted.length + " rounds of " + names[k]
              + ", expected " + rounds);
        }
        fastestHalf[k] = Arrays.stream(sorted, 0, rounds / 2).average().orElseThrow() / 1000.0;
        double median = sorted[rounds / 2] / 1000.0;
        System.out.printf(Locale.ROOT, "  %-18s %8.1f us (median %.1f us)%n", names[k], fastestHalf[k], median);
        json.append(String.format(Locale.ROOT, ",\"%s_us\":%.1f,\"%s_median_us\":%.1f", names[k], fastestHalf[k],
            names[k], median));
      }
      double tokenDiff = fastestHalf[0] - fastestHalf[1];
      double accountDiff = fastestHalf[0] - fastestHalf[2];
      System.out.printf(Locale.ROOT, "  known minus unknown token id: %+.1f us; known minus unknown account: %+.1f us%n",
          tokenDiff, accountDiff);
      json.append(String.format(Locale.ROOT, ",\"known_minus_unknown_token_us\":%.1f,\"known_minus_unknown_account_us\":%.1f",
          tokenDiff, accountDiff));
      json.append(String.format(Locale.ROOT, ",\"warmup\":%d}", WARMUP));
      System.out.println(json);
    }
  }
}
