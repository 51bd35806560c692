package dev.tether.manager.hardening;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.tether.common.token.DelegateToken;
import dev.tether.delegate.connect.HandshakeException;
import dev.tether.delegate.connect.StreamClient;
import dev.tether.manager.server.ManagerSettings;
import dev.tether.manager.testing.FaultyStore;
import dev.tether.manager.testing.ManagerFixture;
import dev.tether.manager.token.CreatedAccount;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The database becomes unreachable: new handshakes and admin writes fail closed with a clear
 * status, live streams go on, everything resumes when it returns, and no token is accepted after
 * its revocation at any point.
 */
class StoreOutageTest {

  @TempDir Path dataDir;
  private final FaultyStore faults = new FaultyStore();
  private ManagerFixture fixture;
  private String accountId;
  private DelegateToken token;

  @BeforeEach
  void start() {
    fixture = new ManagerFixture(dataDir, ManagerSettings.defaults(), faults::wrap);
    CreatedAccount account = fixture.account("acme");
    accountId = account.account().id();
    token = account.defaultToken().value();
  }

  @AfterEach
  void stop() {
    faults.up();
    fixture.close();
  }

  @Test
  void outage_failsNewWorkClosedWhileLiveStreamsCarryOnAndResumesAfterwards() throws Exception {
    StreamClient live = fixture.connect(accountId, token, "live");

    faults.down("*");

    for (int i = 0; i < 5; i++) {
      long seq = live.heartbeat();
      await().atMost(Duration.ofSeconds(5)).until(() -> live.lastAckSequence() >= seq);
    }
    assertThatThrownBy(() -> fixture.handshake(accountId, token, "newcomer"))
        .isInstanceOfSatisfying(HandshakeException.class, e -> {
          assertThat(e.kind()).isEqualTo(HandshakeException.Kind.TRANSIENT);
          assertThat(e.getMessage()).contains("UNAVAILABLE").contains("manager storage unavailable");
        });
    assertThatThrownBy(() -> fixture.manager().tokens().createToken(accountId, "during-outage", "test", null, null))
        .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
          assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE);
          assertThat(e.getStatus().getDescription()).isEqualTo("manager storage unavailable, retry later");
        });
    assertThatThrownBy(() -> fixture.manager().tokens().revoke(accountId, "default", "test"))
        .isInstanceOfSatisfying(StatusRuntimeException.class,
            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE));
    assertThat(live.closed()).as("a revoke that did not happen cuts nothing").isNotDone();

    faults.up();

    assertThat(fixture.handshake(accountId, token, "newcomer").tokenPublicId()).isEqualTo(token.publicId());
    assertThat(fixture.manager().tokens().revoke(accountId, "default", "test").streamsClosed()).isEqualTo(1);
    assertThat(live.closed().get(5, TimeUnit.SECONDS).getDescription()).isEqualTo("delegate token revoked");
  }

  @Test
  void revokeWhoseCommitFailsVisibly_leavesTheTokenActiveAndItsStreamsUp() throws Exception {
    DelegateToken token2 = fixture.token(accountId, "kept").value();
    StreamClient stream = fixture.connect(accountId, token2, "kept-1");

    faults.down("revokeToken");
    assertThatThrownBy(() -> fixture.manager().tokens().revoke(accountId, "kept", "test"))
        .isInstanceOfSatisfying(StatusRuntimeException.class,
            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE));
    faults.up();

    long seq = stream.heartbeat();
    await().atMost(Duration.ofSeconds(5)).until(() -> stream.lastAckSequence() >= seq);
    assertThat(fixture.manager().tokens().token(accountId, "kept").active()).isTrue();
  }

  @Test
  void revokeWhoseCommitFails_keepsTheTokenFencedUntilItIsRetried() throws Exception {
    DelegateToken doomed = fixture.token(accountId, "doomed").value();
    StreamClient stream = fixture.connect(accountId, doomed, "doomed-1");
    long tokenId = fixture.manager().tokens().token(accountId, "doomed").id();
    long accepted = fixture.manager().registry().fence(tokenId).acceptedHeartbeats();

    faults.down("revokeToken");
    faults.thenAlso("findToken");
    assertThatThrownBy(() -> fixture.manager().tokens().revoke(accountId, "doomed", "test"))
        .isInstanceOfSatisfying(StatusRuntimeException.class,
            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE));

    // the outcome is unknown to the manager: it fails closed, accepting no heartbeat of the token
    for (int i = 0; i < 5; i++) {
      stream.heartbeat();
    }
    assertThat(fixture.manager().registry().isFenced(tokenId)).isTrue();
    assertThat(fixture.manager().registry().fence(tokenId).acceptedHeartbeats()).isEqualTo(accepted);

    faults.up();
    assertThat(fixture.manager().tokens().revoke(accountId, "doomed", "test").streamsClosed()).isEqualTo(1);
    assertThat(stream.closed().get(5, TimeUnit.SECONDS).getCode()).isEqualTo(Status.Code.UNAUTHENTICATED);
    assertThat(fixture.manager().registry().fence(tokenId).acceptedHeartbeats()).isEqualTo(accepted);
  }
}
