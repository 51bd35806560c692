package dev.tether.manager.cli;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import dev.tether.manager.server.ManagerServer;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;
import picocli.CommandLine.ParameterException;

/** {@code serve --plaintext}: refused on the network unless asked for twice, and its warning. */
class ServeCommandTest {

  @TempDir Path root;

  @Test
  void plaintextOnANonLoopbackAddress_exitsNonZero_sayingTheAdminKeyWouldTravelInTheClear() {
    Path dataDir = root.resolve("data");
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    PrintStream original = System.err;
    int exit;
    System.setErr(new PrintStream(err, true, UTF_8));
    try {
      // without the refusal, serve would start and block: the timeout turns that into a failure
      exit = assertTimeoutPreemptively(Duration.ofSeconds(60), () -> TetherManagerCli.run(
          "serve", "--plaintext", "--listen", "0.0.0.0:0", "--data-dir", dataDir.toString()));
    } finally {
      System.setErr(original);
    }
    assertThat(exit).isNotZero();
    assertThat(err.toString(UTF_8)).contains("--plaintext on --listen '0.0.0.0:0' is refused: that address is not"
        + " loopback, and without TLS the admin key (sent with every admin command) and all delegate traffic would"
        + " cross the network in the clear").contains("--allow-plaintext-on-network");
    assertThat(dataDir).doesNotExist();
  }

  @Test
  void plaintextOnANonLoopbackAddress_startsWithTheSecondFlag() throws Exception {
    ManagerServer.Options options = options("--plaintext", "--allow-plaintext-on-network", "--listen", "0.0.0.0:0",
        "--admin-listen", "127.0.0.1:0", "--ops-listen", "127.0.0.1:0", "--data-dir", root.resolve("network").toString());
    try (ManagerServer server = ManagerServer.start(options)) {
      assertThat(server.listenAddress().getAddress().isAnyLocalAddress()).isTrue();
      assertServing(server);
    }
  }

  @Test
  void plaintextOnLoopback_starts() throws Exception {
    ManagerServer.Options options = options("--plaintext", "--listen", "127.0.0.1:0",
        "--admin-listen", "127.0.0.1:0", "--ops-listen", "127.0.0.1:0", "--data-dir", root.resolve("local").toString());
    try (ManagerServer server = ManagerServer.start(options)) {
      assertThat(server.listenAddress().getAddress().isLoopbackAddress()).isTrue();
      assertServing(server);
    }
  }

  @Test
  void theSecondFlagWithoutPlaintext_isRefusedAsAMistake() {
    assertThatThrownBy(() -> options("--allow-plaintext-on-network", "--data-dir", root.toString()))
        .isInstanceOf(ParameterException.class)
        .hasMessage("--allow-plaintext-on-network goes with --plaintext, which is not given (TLS is on): drop it");
  }

  @Test
  void thePlaintextWarning_saysTheAdminKeyTravelsInTheClear() {
    assertThat(ServeCommand.plaintextWarning()).startsWith("WARNING: --plaintext: TLS is off.")
        .contains("The admin key, sent with every admin command, and all delegate traffic travel in the clear");
  }

  @Test
  void theAdminListener_isOnLoopbackPort7444ByDefault() throws Exception {
    ManagerServer.Options options = options("--data-dir", root.toString());
    assertThat(options.adminListen().getAddress().isLoopbackAddress()).isTrue();
    assertThat(options.adminListen().getPort()).isEqualTo(7444);
    assertThat(options.listen().getAddress().isAnyLocalAddress()).isTrue();
    assertThat(options.listen().getPort()).isEqualTo(7443);
    assertThat(options("--admin-listen", "off", "--data-dir", root.toString()).adminListen()).isNull();
  }

  @Test
  void plaintextOnANonLoopbackAdminListener_isRefused_andWithTheSecondFlagWarns() throws Exception {
    assertThatThrownBy(() -> options("--plaintext", "--listen", "127.0.0.1:0", "--admin-listen", "0.0.0.0:0",
        "--data-dir", root.toString()))
        .isInstanceOf(ParameterException.class)
        .hasMessageStartingWith("--plaintext on --admin-listen '0.0.0.0:0' is refused: that address is not loopback")
        .hasMessageContaining("--allow-plaintext-on-network");
    ManagerServer.Options allowed = options("--plaintext", "--allow-plaintext-on-network", "--listen", "127.0.0.1:0",
        "--admin-listen", "0.0.0.0:0", "--data-dir", root.toString());
    assertThat(ServeCommand.adminPlaintextWarning(allowed.adminListen())).contains("admin credential");
  }

  @Test
  void theSamePortForBothListeners_isRefused() {
    assertThatThrownBy(() -> options("--listen", "127.0.0.1:7500", "--admin-listen", "127.0.0.1:7500",
        "--data-dir", root.toString()))
        .isInstanceOf(ParameterException.class)
        .hasMessageContaining("use the same port: the admin API needs a listener of its own");
  }

  @Test
  void theOpsListener_isOnLoopbackPort9464ByDefault_andOffTurnsItOff() throws Exception {
    ManagerServer.Options options = options("--data-dir", root.toString());
    assertThat(options.opsListen().getAddress().isLoopbackAddress()).isTrue();
    assertThat(options.opsListen().getPort()).isEqualTo(9464);
    assertThat(options("--ops-listen", "off", "--data-dir", root.toString()).opsListen()).isNull();
    assertThat(options("--ops-listen", "[::1]:9500", "--data-dir", root.toString()).opsListen().getPort())
        .isEqualTo(9500);
  }

  @Test
  void anOpsListenerThatIsNotHostPort_isRefusedNamingTheValue() {
    assertThatThrownBy(() -> options("--ops-listen", "9464", "--data-dir", root.toString()))
        .isInstanceOf(ParameterException.class)
        .hasMessage("--ops-listen: '9464' is not HOST:PORT (for example 0.0.0.0:7443 or [::1]:7443); or 'off'");
  }

  @Test
  void theOpsListenerOnTheDelegateOrAdminPort_isRefused() {
    assertThatThrownBy(() -> options("--listen", "127.0.0.1:7500", "--ops-listen", "127.0.0.1:7500",
        "--data-dir", root.toString()))
        .isInstanceOf(ParameterException.class)
        .hasMessageStartingWith("--ops-listen '127.0.0.1:7500' uses the port of --listen '127.0.0.1:7500'");
    assertThatThrownBy(() -> options("--ops-listen", "0.0.0.0:7444", "--data-dir", root.toString()))
        .isInstanceOf(ParameterException.class)
        .hasMessageContaining("uses the port of --admin-listen '127.0.0.1:7444'");
  }

  private static ManagerServer.Options options(String... args) throws Exception {
    ServeCommand serve = new ServeCommand();
    new CommandLine(serve).parseArgs(args);
    return serve.options();
  }

  private static void assertServing(ManagerServer server) {
    ManagedChannel channel = Grpc.newChannelBuilderForAddress("127.0.0.1", server.listenAddress().getPort(),
        InsecureChannelCredentials.create()).build();
    try {
      assertThat(HealthGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS)
          .check(HealthCheckRequest.getDefaultInstance()).getStatus())
          .isEqualTo(HealthCheckResponse.ServingStatus.SERVING);
    } finally {
      channel.shutdownNow();
    }
  }
}
