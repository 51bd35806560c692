package dev.tether.delegate;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tether.common.testing.TokenLedger;
import dev.tether.common.token.DelegateToken;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** The command line's own checks, before any configuration is read. */
class TetherDelegateTest {

  /** Runs the command with {@code env}; returns its exit code and what it printed on stderr. */
  private static Map.Entry<Integer, String> run(Map<String, String> env) {
    PrintStream before = System.err;
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
    try {
      int code = new CommandLine(new TetherDelegate(env)).execute();
      return Map.entry(code, err.toString(StandardCharsets.UTF_8));
    } finally {
      System.setErr(before);
    }
  }

  /** Tether issue 13: TETHER_LOG_LEVEL=LOUD silently gave DEBUG logs. */
  @Test
  void unknownLogLevel_isRefusedWithTheValidLevels() {
    Map.Entry<Integer, String> result = run(Map.of("TETHER_LOG_LEVEL", "LOUD"));

    assertThat(result.getKey()).isEqualTo(1);
    assertThat(result.getValue()).isEqualTo("tether-delegate exiting (1): configuration error: TETHER_LOG_LEVEL"
        + " 'LOUD' is not a level (expected one of TRACE, DEBUG, INFO, WARN, ERROR, OFF)" + System.lineSeparator());
  }

  @Test
  void knownLogLevelInAnyCase_passesOnToTheConfiguration() {
    for (String level : new String[] {"debug", "WARN", " info "}) {
      Map.Entry<Integer, String> result = run(Map.of("TETHER_LOG_LEVEL", level));

      assertThat(result.getKey()).isEqualTo(1);
      assertThat(result.getValue()).as(level).startsWith("tether-delegate exiting (1): configuration error:"
          + " ACCOUNT_ID is not set");
    }
  }

  @Test
  void opsListenerOnATakenPort_stopsTheDelegateAtStartNamingTheAddressAndTheSetting() throws Exception {
    String token = TokenLedger.record(DelegateToken.generate()).reveal();
    try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      String address = "127.0.0.1:" + taken.getLocalPort();

      Map.Entry<Integer, String> result = run(Map.of("ACCOUNT_ID", "abcdefghijklmnop", "DELEGATE_TOKEN", token,
          "MANAGER_HOST_AND_PORT", "http://127.0.0.1:1", "DELEGATE_OPS_LISTEN", address));

      assertThat(result.getKey()).isEqualTo(1);
      assertThat(result.getValue()).isEqualTo("tether-delegate exiting (1): cannot listen on " + address + " for the"
          + " ops listener (/metrics, /healthz, /readyz): Address already in use (is another program using this port?"
          + " Choose another with DELEGATE_OPS_LISTEN, or 'off')" + System.lineSeparator());
    }
  }

  @Test
  void opsListenerWithABadAddress_stopsTheDelegateAtStartNamingTheValueAndTheForm() {
    String token = TokenLedger.record(DelegateToken.generate()).reveal();

    Map.Entry<Integer, String> result = run(Map.of("ACCOUNT_ID", "abcdefghijklmnop", "DELEGATE_TOKEN", token,
        "MANAGER_HOST_AND_PORT", "http://127.0.0.1:1", "DELEGATE_OPS_LISTEN", "9465"));

    assertThat(result.getKey()).isEqualTo(1);
    assertThat(result.getValue()).isEqualTo("tether-delegate exiting (1): configuration error: DELEGATE_OPS_LISTEN"
        + " '9465' is not HOST:PORT (expected HOST:PORT such as 127.0.0.1:9465, 0.0.0.0:9465 or [::1]:9465, or"
        + " 'off')" + System.lineSeparator());
  }

  @Test
  void version_printsTheProgramAndItsVersion_andReadsNoConfiguration() {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    CommandLine command = new CommandLine(new TetherDelegate(Map.of()));
    command.setOut(new java.io.PrintWriter(out, true, StandardCharsets.UTF_8));

    int code = command.execute("--version");

    assertThat(code).isZero();
    assertThat(out.toString(StandardCharsets.UTF_8)).matches("tether-delegate \\S+\\R");
  }
}
