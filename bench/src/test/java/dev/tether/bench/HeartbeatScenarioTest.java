package dev.tether.bench;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tether.bench.HeartbeatScenario.Measurement;
import org.junit.jupiter.api.Test;

/** The rate a heartbeat step reports: what the server handled, never more than it was offered. */
class HeartbeatScenarioTest {

  @Test
  void aStepThatDrainsTheBacklogOfTheOneBefore_reportsTheRateOffered() {
    // the baseline's step of 2026-12-04: offered 13 607/s, acknowledged 15 118/s after an overloaded step
    Measurement drained = new Measurement("baseline", 1_000, 13_607, 15_118, 3.1, 45.8, 0, 39.9, false);

    assertThat(drained.keptUp()).isTrue();
    assertThat(drained.handledPerS()).isEqualTo(13_607);
  }

  @Test
  void aStepThatFallsShort_reportsTheRateAcknowledged() {
    Measurement behind = new Measurement("tether", 1_000, 11_500, 11_338, 2.0, 19.9, 0, 52.6, false);

    assertThat(behind.keptUp()).isTrue();
    assertThat(behind.handledPerS()).isEqualTo(11_338);
  }

  @Test
  void aStepThatLostStreams_isNotKeptUpWith() {
    Measurement lost = new Measurement("tether", 10_000, 20_000, 19_900, 40, 90, 3, 45, false);

    assertThat(lost.keptUp()).isFalse();
  }
}
