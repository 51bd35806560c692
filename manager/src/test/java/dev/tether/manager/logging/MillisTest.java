package dev.tether.manager.logging;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Locale;
import org.junit.jupiter.api.Test;

class MillisTest {

  @Test
  void oneDecimal_roundedToTheNearestTenth() {
    assertThat(Millis.of(0)).isEqualTo("0.0");
    assertThat(Millis.of(49_999)).isEqualTo("0.0");
    assertThat(Millis.of(50_000)).isEqualTo("0.1");
    assertThat(Millis.of(1_234_567)).isEqualTo("1.2");
    assertThat(Millis.of(1_250_000)).isEqualTo("1.3");
    assertThat(Millis.of(9_960_000)).isEqualTo("10.0");
    assertThat(Millis.of(118_126_000_000L)).isEqualTo("118126.0");
    // a clock that stepped back is not a negative duration in the log
    assertThat(Millis.of(-5_000_000)).isEqualTo("0.0");
  }

  @Test
  void theDecimalPointIsAPoint_inEveryLocale() {
    Locale before = Locale.getDefault();
    try {
      Locale.setDefault(Locale.GERMANY);
      assertThat(Millis.of(1_234_567)).isEqualTo("1.2");
    } finally {
      Locale.setDefault(before);
    }
  }
}
