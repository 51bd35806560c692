package dev.tether.common.logging;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tether.common.token.DelegateToken;
import org.junit.jupiter.api.Test;

/** The values TETHER_LOG_FORMAT accepts, and how a wrong one is refused. */
class LogFormatsTest {

  @Test
  void textAndJsonInAnyCase_areFormats_andUnsetIsText() {
    assertThat(LogFormats.format(" JSON ")).contains("json");
    assertThat(LogFormats.format("Text")).contains("text");
    assertThat(LogFormats.format(null)).contains("text");
    assertThat(LogFormats.format("")).contains("text");
    assertThat(LogFormats.problem("json")).isEmpty();
    assertThat(LogFormats.problem(null)).isEmpty();
  }

  @Test
  void anyOtherValue_isRefusedNamingItAndTheFormats() {
    assertThat(LogFormats.format("xml")).isEmpty();
    assertThat(LogFormats.format("logfmt")).isEmpty();
    assertThat(LogFormats.problem("xml")).contains("TETHER_LOG_FORMAT 'xml' is not a log format (expected text or json)");
  }

  @Test
  void aTokenPutThereByMistake_isNotEchoed() {
    String token = DelegateToken.generate().reveal();
    assertThat(LogFormats.problem(token)).hasValueSatisfying(problem -> assertThat(problem)
        .isEqualTo("TETHER_LOG_FORMAT (a value shaped like a delegate token) is not a log format (expected text or json)")
        .doesNotContain(token));
  }
}
