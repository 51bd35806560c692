package dev.tether.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;
import org.junit.jupiter.api.Test;

/** A worker's histogram crosses to the bench as one word, and comes back with every count. */
class HistogramsTest {

  @Test
  void aRecordersIntervalHistogram_recordedFromSeveralThreads_decodesWithEveryValue() throws Exception {
    Recorder recorder = new Recorder(3);
    List<Thread> writers = new ArrayList<>();
    for (int t = 0; t < 4; t++) {
      Thread w = new Thread(() -> {
        ThreadLocalRandom random = ThreadLocalRandom.current();
        for (int i = 0; i < 5_000; i++) {
          // round trips in microseconds, from tens of them to seconds: the histogram resizes as it records
          recorder.recordValue(1 + random.nextLong(i < 4_990 ? 5_000 : 3_000_000));
        }
      });
      writers.add(w);
      w.start();
    }
    for (Thread w : writers) {
      w.join();
    }
    Histogram sent = recorder.getIntervalHistogram();

    Histogram back = Histograms.decode(Histograms.encode(sent));

    assertThat(back.getTotalCount()).isEqualTo(20_000);
    assertThat(back.getMaxValue()).isEqualTo(sent.getMaxValue());
    assertThat(back.getValueAtPercentile(99)).isEqualTo(sent.getValueAtPercentile(99));
  }

  @Test
  void aWordThatIsNotAHistogram_isRefusedSayingWhatWasExpected() {
    assertThatThrownBy(() -> Histograms.decode("bm90IGEgaGlzdG9ncmFt"))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("expected Base64 of a compressed HdrHistogram");
  }
}
