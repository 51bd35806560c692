package dev.tether.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

/** The summaries the startup scenario prints: median, nearest-rank p90, min and max, whatever the order. */
class SamplesTest {

  @Test
  void summaries_ofAnOddAndAnEvenCount() {
    Samples odd = new Samples(new long[] {30, 10, 20});
    assertThat(odd.median()).isEqualTo(20);
    assertThat(odd.p90()).isEqualTo(30);
    assertThat(odd.min()).isEqualTo(10);
    assertThat(odd.max()).isEqualTo(30);

    Samples ten = new Samples(new long[] {10, 1, 9, 2, 8, 3, 7, 4, 6, 5});
    assertThat(ten.median()).isEqualTo(5.5);
    assertThat(ten.p90()).isEqualTo(9);
    assertThat(ten.count()).isEqualTo(10);
  }

  @Test
  void noSamples_isRefused() {
    assertThatThrownBy(() -> new Samples(new long[0])).hasMessageContaining("no samples");
  }
}
