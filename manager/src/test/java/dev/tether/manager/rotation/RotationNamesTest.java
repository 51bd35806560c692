package dev.tether.manager.rotation;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.grpc.StatusRuntimeException;
import org.junit.jupiter.api.Test;

/** The successor's default name and how a delegate's reason is kept. */
class RotationNamesTest {

  @Test
  void successorName_countsRotationsInASuffix() {
    assertThat(RotationService.successorName("ci")).isEqualTo("ci-r2");
    assertThat(RotationService.successorName("ci-r2")).isEqualTo("ci-r3");
    assertThat(RotationService.successorName("ci-r9")).isEqualTo("ci-r10");
    assertThat(RotationService.successorName("builders-2026")).isEqualTo("builders-2026-r2");
  }

  @Test
  void successorName_tooLongForATokenName_asksForOne() {
    assertThatThrownBy(() -> RotationService.successorName("x".repeat(63)))
        .isInstanceOf(StatusRuntimeException.class).hasMessageContaining("give one with --new-name");
  }

  @Test
  void reason_keepsText_andRefusesControlCharactersWithoutEchoingThem() {
    assertThat(RotationService.reason("read-only file '/etc/tether/token'")).isEqualTo("read-only file '/etc/tether/token'");
    assertThat(RotationService.reason("")).isNull();
    assertThat(RotationService.reason("line\u001b[2J")).startsWith("(the delegate's reason was refused: ")
        .doesNotContain("\u001b");
    assertThat(RotationService.reason("x".repeat(2000))).startsWith("(the delegate's reason was refused: ");
  }
}
