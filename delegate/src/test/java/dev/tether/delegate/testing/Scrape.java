package dev.tether.delegate.testing;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;

/**
 * Reads an ops listener the way Prometheus and the kubelet do: plain HTTP GETs, the samples of a
 * text exposition by name and labels, and {@code promtool check metrics} on it where promtool is
 * installed (CI sets TETHER_REQUIRE_LINTERS=1 and installs it, so there it is never skipped).
 */
public final class Scrape {

  private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  private Scrape() {}

  /** One answer: its status and body. */
  public record Answer(int status, String body) { }

  public static Answer get(InetSocketAddress listener, String path) throws IOException, InterruptedException {
    String host = listener.getAddress().getHostAddress();
    URI uri = URI.create("http://" + (host.contains(":") ? "[" + host + "]" : host) + ":" + listener.getPort() + path);
    HttpResponse<String> response = HTTP.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(10)).GET().build(),
        HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
    return new Answer(response.statusCode(), response.body());
  }

  /** Every sample of a Prometheus text exposition, keyed by its name and labels as written. */
  public static Map<String, Double> samples(String exposition) {
    Map<String, Double> out = new LinkedHashMap<>();
    for (String line : exposition.split("\n")) {
      if (line.isBlank() || line.startsWith("#")) {
        continue;
      }
      int space = line.lastIndexOf(' ');
      out.put(line.substring(0, space), Double.parseDouble(line.substring(space + 1)));
    }
    return out;
  }

  /** The value of {@code series} (a name, with its labels in braces if it has any), failing when it is missing. */
  public static double value(Map<String, Double> samples, String series) {
    assertThat(samples).as("series %s", series).containsKey(series);
    return samples.get(series);
  }

  /** Runs {@code promtool check metrics} on {@code exposition}; it must find no problem. */
  public static void promtoolCheck(String exposition) throws IOException, InterruptedException {
    if (!onPath("promtool")) {
      assertThat("1".equals(System.getenv("TETHER_REQUIRE_LINTERS")))
          .as("promtool is required (TETHER_REQUIRE_LINTERS=1) but not installed").isFalse();
      Assumptions.abort("promtool is not installed; install it (apt-get install prometheus) to run this check");
    }
    Path input = Files.createTempFile("metrics", ".txt");
    Path output = Files.createTempFile("promtool", ".out");
    try {
      Files.writeString(input, exposition, StandardCharsets.UTF_8);
      Process process = new ProcessBuilder(List.of("promtool", "check", "metrics")).redirectInput(input.toFile())
          .redirectErrorStream(true).redirectOutput(output.toFile()).start();
      assertThat(process.waitFor(60, TimeUnit.SECONDS)).isTrue();
      String said = Files.readString(output, StandardCharsets.UTF_8);
      assertThat(process.exitValue()).as("promtool check metrics said:\n" + said).isZero();
      assertThat(said).as("promtool check metrics").isBlank();
    } finally {
      Files.delete(input);
      Files.delete(output);
    }
  }

  private static boolean onPath(String tool) {
    for (String dir : System.getenv().getOrDefault("PATH", "").split(":")) {
      if (Files.isExecutable(Path.of(dir, tool))) {
        return true;
      }
    }
    return false;
  }
}
