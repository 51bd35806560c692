package dev.tether.manager.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tether.delegate.config.ManagerEndpoint;
import dev.tether.delegate.connect.Channels;
import io.grpc.ManagedChannel;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
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

      assertThat(connects(endpoint, dataDir.resolve("tls/manager.crt"), Duration.ofSeconds(10))).isFalse();
      assertThat(connects(endpoint, null, Duration.ofSeconds(30))).isTrue();
    }
  }
}
