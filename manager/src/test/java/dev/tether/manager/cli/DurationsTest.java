package dev.tether.manager.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;
import picocli.CommandLine.TypeConversionException;

/** Durations as operators write them, compound ones included, and the errors for the rest. */
class DurationsTest {

  @Test
  void singleUnits() {
    assertThat(Durations.parse("500ms")).isEqualTo(Duration.ofMillis(500));
    assertThat(Durations.parse("90s")).isEqualTo(Duration.ofSeconds(90));
    assertThat(Durations.parse("15m")).isEqualTo(Duration.ofMinutes(15));
    assertThat(Durations.parse("24h")).isEqualTo(Duration.ofHours(24));
    assertThat(Durations.parse("7d")).isEqualTo(Duration.ofDays(7));
    assertThat(Durations.parse("2w")).isEqualTo(Duration.ofDays(14));
  }

  @Test
  void compoundValues_addUp() {
    assertThat(Durations.parse("1h30m")).isEqualTo(Duration.ofMinutes(90));
    assertThat(Durations.parse("1d12h")).isEqualTo(Duration.ofHours(36));
    assertThat(Durations.parse("1w1d")).isEqualTo(Duration.ofDays(8));
    assertThat(Durations.parse("1m30s500ms")).isEqualTo(Duration.ofMillis(90_500));
    assertThat(Durations.parse(" 3650d ")).isEqualTo(Duration.ofDays(3650));
  }

  @Test
  void badInput_namesTheValueAndTheAcceptedForm() {
    for (String bad : new String[] {"soon", "", "1", "h", "1.5h", "-1h", "1h 30m", "1y", "30mins"}) {
      assertThatThrownBy(() -> Durations.parse(bad)).isInstanceOf(TypeConversionException.class)
          .hasMessage("'" + bad + "' is not a duration (expected a number and a unit (w, d, h, m, s or ms), or several"
              + " in a row, for example 90s, 15m, 1h30m, 7d or 2w)");
    }
    assertThatThrownBy(() -> Durations.parse("0s")).hasMessageStartingWith("'0s' is zero (expected a positive duration");
    assertThatThrownBy(() -> Durations.parse("999999999999w")).hasMessageStartingWith("'999999999999w' is too long");
  }

  @Test
  void format_writesWhatParseReads() {
    assertThat(Durations.format(Duration.ofMinutes(90))).isEqualTo("1h30m");
    assertThat(Durations.format(Duration.ofDays(3650))).isEqualTo("3650d");
    assertThat(Durations.format(Duration.ofMillis(1500))).isEqualTo("1s500ms");
    assertThat(Durations.format(Duration.ZERO)).isEqualTo("0s");
    for (String s : new String[] {"1h30m", "7d", "1d2h3m4s5ms", "59s"}) {
      assertThat(Durations.format(Durations.parse(s))).isEqualTo(s);
    }
  }
}
