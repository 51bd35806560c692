package dev.tether.bench;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The manager's registration meters, as its /metrics gives them (docs/observability.md):
 * {@code tether_registration_duration_seconds} by phase ({@code queued}, {@code commit},
 * {@code total}) and {@code tether_registrations_per_commit}. Two scrapes give what happened
 * between them ({@link #since}).
 */
record RegistrationTimes(Map<String, Double> sums, Map<String, Double> counts, double perCommitSum,
    double perCommitCount, TreeMap<Double, Double> totalBuckets) {

  static final String QUEUED = "queued";
  static final String COMMIT = "commit";
  static final String TOTAL = "total";

  private static final Pattern PHASE = Pattern.compile(
      "^tether_registration_duration_seconds_(sum|count)\\{phase=\"(\\w+)\"\\} (\\S+)$", Pattern.MULTILINE);
  private static final Pattern TOTAL_BUCKET = Pattern.compile(
      "^tether_registration_duration_seconds_bucket\\{phase=\"total\",le=\"([^\"]+)\"\\} (\\S+)$", Pattern.MULTILINE);
  private static final Pattern PER_COMMIT = Pattern.compile(
      "^tether_registrations_per_commit_(sum|count) (\\S+)$", Pattern.MULTILINE);

  /** The manager's meters now, from its ops listener on {@code opsPort}. */
  static RegistrationTimes scrape(HttpClient http, int opsPort) throws IOException, InterruptedException {
    HttpResponse<String> response = http.send(
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + opsPort + "/metrics"))
            .timeout(java.time.Duration.ofSeconds(10)).build(),
        HttpResponse.BodyHandlers.ofString());
    if (response.statusCode() != 200) {
      throw new IllegalStateException("the manager's /metrics answered HTTP " + response.statusCode());
    }
    return parse(response.body());
  }

  /** Reads the meters out of a Prometheus scrape; fails if the scrape has none of them. */
  static RegistrationTimes parse(String scrape) {
    Map<String, Double> sums = new LinkedHashMap<>();
    Map<String, Double> counts = new LinkedHashMap<>();
    Matcher m = PHASE.matcher(scrape);
    while (m.find()) {
      (m.group(1).equals("sum") ? sums : counts).put(m.group(2), Double.parseDouble(m.group(3)));
    }
    for (String phase : new String[] {QUEUED, COMMIT, TOTAL}) {
      if (!sums.containsKey(phase) || !counts.containsKey(phase)) {
        throw new IllegalStateException("the manager's /metrics has no tether_registration_duration_seconds"
            + " sum and count for phase " + phase + "; found sums " + sums.keySet() + ", counts " + counts.keySet());
      }
    }
    TreeMap<Double, Double> buckets = new TreeMap<>();
    Matcher b = TOTAL_BUCKET.matcher(scrape);
    while (b.find()) {
      double bound = b.group(1).equals("+Inf") ? Double.POSITIVE_INFINITY : Double.parseDouble(b.group(1));
      buckets.put(bound, Double.parseDouble(b.group(2)));
    }
    if (!buckets.containsKey(Double.POSITIVE_INFINITY)) {
      throw new IllegalStateException("the manager's /metrics has no +Inf bucket of tether_registration_duration_seconds"
          + "{phase=\"total\"}");
    }
    double perCommitSum = Double.NaN;
    double perCommitCount = Double.NaN;
    Matcher p = PER_COMMIT.matcher(scrape);
    while (p.find()) {
      if (p.group(1).equals("sum")) {
        perCommitSum = Double.parseDouble(p.group(2));
      } else {
        perCommitCount = Double.parseDouble(p.group(2));
      }
    }
    if (Double.isNaN(perCommitSum) || Double.isNaN(perCommitCount)) {
      throw new IllegalStateException("the manager's /metrics has no tether_registrations_per_commit sum and count");
    }
    return new RegistrationTimes(sums, counts, perCommitSum, perCommitCount, buckets);
  }

  /** What happened between {@code earlier} and this scrape (of the same manager process). */
  RegistrationTimes since(RegistrationTimes earlier) {
    Map<String, Double> s = new LinkedHashMap<>();
    Map<String, Double> c = new LinkedHashMap<>();
    sums.forEach((phase, v) -> s.put(phase, v - earlier.sums.getOrDefault(phase, 0.0)));
    counts.forEach((phase, v) -> c.put(phase, v - earlier.counts.getOrDefault(phase, 0.0)));
    TreeMap<Double, Double> buckets = new TreeMap<>();
    totalBuckets.forEach((bound, v) -> buckets.put(bound, v - earlier.totalBuckets.getOrDefault(bound, 0.0)));
    return new RegistrationTimes(s, c, perCommitSum - earlier.perCommitSum, perCommitCount - earlier.perCommitCount,
        buckets);
  }

  /** Registrations timed in {@code phase} (for {@code total}: delegates told Registered). */
  long count(String phase) {
    return Math.round(counts.get(phase));
  }

  /** The mean of {@code phase} in ms; NaN with none. */
  double meanMs(String phase) {
    double n = counts.get(phase);
    return n == 0 ? Double.NaN : sums.get(phase) / n * 1000;
  }

  /** Registrations written by one transaction, on average; NaN with no transaction. */
  double perCommitMean() {
    return perCommitCount == 0 ? Double.NaN : perCommitSum / perCommitCount;
  }

  /**
   * The {@code q} quantile of {@code total} in ms, from the histogram's buckets as Prometheus's
   * {@code histogram_quantile} reads them: linear within the bucket that holds it, the highest
   * finite bound if it is beyond that. NaN with none.
   */
  double totalQuantileMs(double q) {
    double n = totalBuckets.get(Double.POSITIVE_INFINITY);
    if (n == 0) {
      return Double.NaN;
    }
    double rank = q * n;
    double lowerBound = 0;
    double below = 0;
    for (Map.Entry<Double, Double> bucket : totalBuckets.entrySet()) {
      if (bucket.getValue() >= rank) {
        if (bucket.getKey().isInfinite()) {
          return lowerBound * 1000;
        }
        double inBucket = bucket.getValue() - below;
        double fraction = inBucket == 0 ? 1 : (rank - below) / inBucket;
        return (lowerBound + (bucket.getKey() - lowerBound) * fraction) * 1000;
      }
      lowerBound = bucket.getKey();
      below = bucket.getValue();
    }
    throw new IllegalStateException("unreachable: the +Inf bucket holds every registration");
  }
}
