package dev.tether.manager.rotation;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class RotationTimingTest {

  @Test
  void defaults_areTheDocumentedWaits() {
    // docs/protocol.md 6.3 (30 s to answer) and docs/rotation.md (20 s after a start)
    assertThat(RotationTiming.defaults()).isEqualTo(new RotationTiming(Duration.ofSeconds(20), Duration.ofSeconds(30)));
  }

  @Test
  void aNegativeSettleOrANoAnswerWaitThatIsNotPositive_isRefusedNamingTheValue() {
    assertThatThrownBy(() -> new RotationTiming(Duration.ofSeconds(-1), Duration.ofSeconds(30)))
        .hasMessage("rotation settle PT-1S is negative (expected zero or more)");
    assertThatThrownBy(() -> new RotationTiming(Duration.ZERO, Duration.ZERO))
        .hasMessage("rotation no-answer wait PT0S is not positive");
  }
}
