package dev.tether.manager.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tether.manager.cli.ManagerAddress.Transport;
import org.junit.jupiter.api.Test;
import picocli.CommandLine.TypeConversionException;

/** The forms {@code --manager} accepts, and what each says about TLS. */
class ManagerAddressTest {

  @Test
  void theThreeForms() {
    assertThat(ManagerAddress.parse("127.0.0.1:7444")).isEqualTo(new ManagerAddress("127.0.0.1", 7444, Transport.UNSPECIFIED));
    assertThat(ManagerAddress.parse("https://manager.example:7444")).isEqualTo(
        new ManagerAddress("manager.example", 7444, Transport.TLS));
    assertThat(ManagerAddress.parse("HTTP://127.0.0.1:7444/")).isEqualTo(new ManagerAddress("127.0.0.1", 7444, Transport.PLAINTEXT));
    ManagerAddress v6 = ManagerAddress.parse("https://[::1]:7444");
    assertThat(v6).isEqualTo(new ManagerAddress("::1", 7444, Transport.TLS));
    assertThat(v6.target()).isEqualTo("[::1]:7444");
  }

  @Test
  void badAddresses_nameTheValueAndTheExpectedForm() {
    assertThatThrownBy(() -> ManagerAddress.parse("https://127.0.0.1:abc")).isInstanceOf(TypeConversionException.class)
        .hasMessage("'https://127.0.0.1:abc' has port 'abc', which is not a number (expected 1 to 65535, for example"
            + " 127.0.0.1:7444)");
    assertThatThrownBy(() -> ManagerAddress.parse("127.0.0.1")).hasMessageStartingWith("'127.0.0.1' is not a manager"
        + " address (expected HOST:PORT, https://HOST:PORT or http://HOST:PORT");
    assertThatThrownBy(() -> ManagerAddress.parse("grpc://h:1")).hasMessageStartingWith("'grpc://h:1' has an unknown scheme");
    assertThatThrownBy(() -> ManagerAddress.parse("h:0")).hasMessageStartingWith("'h:0' has port 0 (expected 1 to 65535");
    assertThatThrownBy(() -> ManagerAddress.parse("https://:7444")).hasMessageStartingWith("'https://:7444' is not a manager address");
  }
}
