package dev.tether.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.HdrHistogram.Histogram;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The handshakes scenario's processes: a real manager in a {@link BenchServer} JVM of its own and
 * a {@link HandshakeWorker} JVM of its own that opens authenticated delegates on it, answering
 * counts and a latency histogram that decodes.
 */
class HandshakeWorkerTest {

  @TempDir Path root;

  @Test
  void handshakeWorker_opensAuthenticatedDelegates_onAManagerInAnotherProcess() throws Exception {
    try (Target manager = Target.start("tether", "tether", root, false, List.of("--open-handshake-limits"))) {
      Child load = manager.startHandshakeWorker(2);

      Map<String, String> answer = load.call("measure 1", Duration.ofMinutes(2));

      long opens = Long.parseLong(answer.get("opens"));
      assertThat(opens).isPositive();
      assertThat(answer.get("errors")).isEqualTo("0");
      Histogram micros = Histograms.decode(answer.get("histogram"));
      assertThat(micros.getTotalCount()).isEqualTo(opens);
      assertThat(load.pid()).isNotEqualTo(ProcessHandle.current().pid());
    }
  }

  @Test
  void histograms_surviveTheTripThroughAnAnswer() {
    Histogram h = new Histogram(3);
    h.recordValue(1_500);
    h.recordValue(250_000);

    Histogram back = Histograms.decode(Histograms.encode(h));

    assertThat(back.getTotalCount()).isEqualTo(2);
    assertThat(back.getMaxValue()).isEqualTo(h.getMaxValue());
    assertThat(back.getMinValue()).isEqualTo(h.getMinValue());
  }
}
