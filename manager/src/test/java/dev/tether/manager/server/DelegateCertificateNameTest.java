package dev.tether.manager.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.tether.delegate.config.ManagerEndpoint;
import dev.tether.delegate.connect.Channels;
import io.grpc.ConnectivityState;
import io.grpc.ManagedChannel;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * With MANAGER_CA_FILE the delegate checks that the name or address it dialled is one the
 * manager's certificate holds; without one, the handshake proves the manager and the name is not
 * checked. Against the production server, whose generated certificate holds localhost, 127.0.0.1,
 * ::1 and the host's name.
 */
class DelegateCertificateNameTest {

  @TempDir Path dataDir;

  private ManagerServer start(String address) throws Exception {
    return ManagerServer.start(new ManagerServer.Options(new InetSocketAddress(address, 0),
        new InetSocketAddress("127.0.0.1", 0), dataDir, null, null, null, false, null, null, List.of(),
        ManagerSettings.defaults()));
  }

  /** Whether a channel to {@code endpoint} is ready within {@code max}. */
  private static boolean connects(ManagerEndpoint endpoint, Path caFile, Duration max) throws Exception {
    ManagedChannel channel = Channels.open(endpoint, caFile);
    try {
      return Channels.connectNow(channel, max);
    } finally {
      channel.shutdownNow().awaitTermination(30, TimeUnit.SECONDS);
    }
  }

  /**
   * Whether the first attempt of a channel to {@code endpoint} fails: it ends in TRANSIENT_FAILURE
   * without having been ready (rather than waiting out a bound on becoming ready).
   */
  private static boolean firstAttemptFails(ManagerEndpoint endpoint, Path caFile) throws Exception {
    ManagedChannel channel = Channels.open(endpoint, caFile);
    AtomicBoolean wasReady = new AtomicBoolean();
    try {
      channel.getState(true);
      await().atMost(Duration.ofSeconds(60)).until(() -> {
        ConnectivityState state = channel.getState(false);
        wasReady.compareAndSet(false, state == ConnectivityState.READY);
        return state == ConnectivityState.TRANSIENT_FAILURE || state == ConnectivityState.READY;
      });
      return !wasReady.get() && channel.getState(false) == ConnectivityState.TRANSIENT_FAILURE;
    } finally {
      channel.shutdownNow().awaitTermination(30, TimeUnit.SECONDS);
    }
  }

  @Test
  void withTheCaFile_anIpv6AddressTheCertificateHolds_isAccepted() throws Exception {
    try (ManagerServer manager = start("::1")) {
      int port = manager.listenAddress().getPort();

      // the certificate holds ::1, which the JDK reports as 0:0:0:0:0:0:0:1
      ManagerEndpoint endpoint = new ManagerEndpoint("::1", port, true);
      assertThat(connects(endpoint, dataDir.resolve("tls/manager.crt"), Duration.ofSeconds(30))).isTrue();
    }
  }

  @Test
  void withTheCaFile_anAddressTheCertificateDoesNotHold_isRefused_withoutItTheHandshakeDecides() throws Exception {
    try (ManagerServer manager = start("127.0.0.2")) {
      ManagerEndpoint endpoint = new ManagerEndpoint("127.0.0.2", manager.listenAddress().getPort(), true);

      assertThat(firstAttemptFails(endpoint, dataDir.resolve("tls/manager.crt"))).isTrue();
      int port = manager.listenAddress().getPort();
      assertThat(DelegateTransportMismatchTest.firstWarning(endpoint, dataDir.resolve("tls/manager.crt"))).startsWith("the manager's TLS"
          + " certificate at 127.0.0.2:" + port + " does not hold the name or address the delegate dialled (No subject"
          + " alternative names matching IP address 127.0.0.2 found): name the manager in MANAGER_HOST_AND_PORT as its"
          + " certificate does, or give the manager a certificate that holds '127.0.0.2'; retrying in ");
      assertThat(connects(endpoint, null, Duration.ofSeconds(30))).isTrue();
    }
  }
}
