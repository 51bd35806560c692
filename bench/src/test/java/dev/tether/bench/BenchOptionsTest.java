package dev.tether.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

/** The numeric options of {@code scripts/bench.sh}: {@code --max}, {@code --warmup}, {@code --rounds}. */
class BenchOptionsTest {

  @Test
  void anOptionGiven_isRead_wherever_itStands() {
    String[] args = {"handshakes", "--warmup", "30", "--quick", "--rounds", "4"};
    assertThat(Bench.positiveOption(args, "--warmup", 2, "seconds")).isEqualTo(30);
    assertThat(Bench.positiveOption(args, "--rounds", 3, "rounds")).isEqualTo(4);
  }

  @Test
  void anOptionLeftOut_takesItsDefault() {
    assertThat(Bench.positiveOption(new String[] {"handshakes", "--quick"}, "--warmup", 2, "seconds")).isEqualTo(2);
  }

  @Test
  void aBadValue_isRefused_namingTheOption_theValue_andWhatWasExpected() {
    assertThatThrownBy(() -> Bench.positiveOption(new String[] {"handshakes", "--warmup", "0"}, "--warmup", 2,
        "a positive number of seconds"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("--warmup takes a positive number of seconds, got '0'");
    assertThatThrownBy(() -> Bench.positiveOption(new String[] {"handshakes", "--rounds", "three"}, "--rounds", 3,
        "a positive number of rounds"))
        .hasMessage("--rounds takes a positive number of rounds, got 'three'");
    assertThatThrownBy(() -> Bench.positiveOption(new String[] {"streams-held", "--max"}, "--max", 1,
        "a positive number of streams"))
        .hasMessage("--max takes a positive number of streams, got ''");
  }

  @Test
  void anOptionOfAnotherScenario_orAnUnknownArgument_isRefused_notIgnored() {
    assertThatThrownBy(() -> Bench.checkArguments(new String[] {"revocation", "--rounds", "5"}))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("--rounds is an option of handshakes, not of revocation");
    assertThatThrownBy(() -> Bench.checkArguments(new String[] {"handshakes", "--quik"}))
        .hasMessage("unknown argument '--quik'");
    Bench.checkArguments(new String[] {"handshakes", "--quick", "--warmup", "30", "--rounds", "4"});
    Bench.checkArguments(new String[] {"streams-held", "--max", "2000", "--quick"});
  }
}
