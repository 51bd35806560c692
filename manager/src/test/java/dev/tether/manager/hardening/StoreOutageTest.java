package dev.tether.manager.hardening;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.tether.common.testing.TokenLedger;
import dev.tether.common.token.DelegateToken;
import dev.tether.delegate.connect.HandshakeException;
import dev.tether.delegate.connect.StreamClient;
import dev.tether.manager.cluster.ClusterSettings;
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
    start(ClusterSettings.defaults().reconcileInterval());
  }

  /**
   * Restarts the fixture with reconciliation (and the settling of revocations in doubt) every
   * {@code interval}: an hour leaves the settling to the test.
   */
  private void start(Duration interval) {
    if (fixture != null) {
      fixture.close();
    }
    ClusterSettings cluster = ClusterSettings.defaults();
    fixture = new ManagerFixture(dataDir, ManagerSettings.defaults().withCluster(new ClusterSettings(
        cluster.replicaHeartbeat(), cluster.lostAfter(), interval, cluster.confirmTimeout())), faults::wrap);
    CreatedAccount account = fixture.account("acme-" + interval.toSeconds());
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
      await().atMost(Duration.ofSeconds(30)).until(() -> live.lastAckSequence() >= seq);
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
    assertThat(live.closed().get(30, TimeUnit.SECONDS).getDescription()).isEqualTo("delegate token revoked");
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

    // a lost connection leaves the outcome to the next reconciliation pass (2 s), which finds the
    // token active and lowers its fence
    await().atMost(Duration.ofSeconds(30)).until(() -> !fixture.manager().registry().isFenced(
        fixture.manager().tokens().token(accountId, "kept").id()));
    long seq = stream.heartbeat();
    await().atMost(Duration.ofSeconds(10)).until(() -> stream.lastAckSequence() >= seq);
    assertThat(fixture.manager().tokens().token(accountId, "kept").active()).isTrue();
  }

  @Test
  void revokeWhoseOutcomeIsUnknown_keepsTheTokenFenced_andARetryRevokesIt() throws Exception {
    start(Duration.ofHours(1));
    DelegateToken doomed = TokenLedger.record(fixture.token(accountId, "doomed").value());
    StreamClient stream = fixture.connect(accountId, doomed, "doomed-1");
    long tokenId = fixture.manager().tokens().token(accountId, "doomed").id();
    long accepted = fixture.manager().registry().fence(tokenId).acceptedHeartbeats();

    revokeWithItsOutcomeUnknown("doomed");

    // the outcome is unknown to the manager: it fails closed, accepting no heartbeat of the token
    for (int i = 0; i < 5; i++) {
      stream.heartbeat();
    }
    assertThat(fixture.manager().registry().isFenced(tokenId)).isTrue();
    assertThat(fixture.manager().registry().fence(tokenId).acceptedHeartbeats()).isEqualTo(accepted);

    faults.up();
    assertThat(fixture.manager().tokens().revoke(accountId, "doomed", "test").streamsClosed()).isEqualTo(1);
    assertThat(stream.closed().get(30, TimeUnit.SECONDS).getCode()).isEqualTo(Status.Code.UNAUTHENTICATED);
    assertThat(fixture.manager().registry().fence(tokenId).acceptedHeartbeats()).isEqualTo(accepted);
    assertThat(fixture.manager().tokens().settleInDoubt()).as("the retry settled it; nothing is lifted").isZero();
    assertThat(fixture.manager().registry().isFenced(tokenId)).isTrue();
  }

  @Test
  void revokeWhoseOutcomeIsUnknown_whenTheStoreReturnsWithTheTokenActive_liftsTheFenceOnItsOwn() throws Exception {
    DelegateToken kept = TokenLedger.record(fixture.token(accountId, "kept").value());
    StreamClient stream = fixture.connect(accountId, kept, "kept-1");
    long tokenId = fixture.manager().tokens().token(accountId, "kept").id();

    revokeWithItsOutcomeUnknown("kept");
    assertThat(fixture.manager().registry().isFenced(tokenId)).isTrue();
    assertThat(fixture.manager().tokens().inDoubtCount()).isEqualTo(1);
    assertThat(inDoubtGauge()).isEqualTo(1);

    // the revoke did not commit: once the store answers, the token carries on without a retry or a restart
    faults.up();
    await().atMost(Duration.ofSeconds(30)).until(() -> !fixture.manager().registry().isFenced(tokenId));
    assertThat(fixture.manager().tokens().inDoubtCount()).isZero();
    assertThat(inDoubtGauge()).isZero();
    long seq = stream.heartbeat();
    await().atMost(Duration.ofSeconds(10)).until(() -> stream.lastAckSequence() >= seq);
    assertThat(stream.closed()).isNotDone();
    assertThat(fixture.handshake(accountId, kept, "kept-2").tokenPublicId()).isEqualTo(kept.publicId());
    assertThat(fixture.manager().tokens().token(accountId, "kept").active()).isTrue();
  }

  @Test
  void aHandshakeWhileTheFenceIsNotSettled_isToldToRetry_notThatItsTokenIsRejected() throws Exception {
    start(Duration.ofHours(1));
    DelegateToken kept = TokenLedger.record(fixture.token(accountId, "kept").value());
    revokeWithItsOutcomeUnknown("kept");
    faults.up();

    // a delegate told its token is rejected stops for good (exit 78), though the token is active
    assertThatThrownBy(() -> fixture.handshake(accountId, kept, "kept-1"))
        .isInstanceOfSatisfying(HandshakeException.class, e -> {
          assertThat(e.kind()).isEqualTo(HandshakeException.Kind.TRANSIENT);
          assertThat(e.getMessage()).contains("UNAVAILABLE")
              .contains("a revocation of this token is in progress on the manager; retry later");
        });

    assertThat(fixture.manager().tokens().settleInDoubt()).isEqualTo(1);
    assertThat(fixture.handshake(accountId, kept, "kept-1").tokenPublicId()).isEqualTo(kept.publicId());
  }

  @Test
  void revokeWhoseAnswerWasLost_whenTheStoreReturns_cutsTheTokensStreams() throws Exception {
    start(Duration.ofHours(1));
    DelegateToken doomed = TokenLedger.record(fixture.token(accountId, "doomed").value());
    StreamClient stream = fixture.connect(accountId, doomed, "doomed-1");

    // the commit happened; its answer, and the read after it, failed
    faults.revokeOutcomeLost(true);
    assertThatThrownBy(() -> fixture.manager().tokens().revoke(accountId, "doomed", "test"))
        .isInstanceOfSatisfying(StatusRuntimeException.class,
            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE));
    faults.up();

    assertThat(fixture.manager().tokens().settleInDoubt()).isEqualTo(1);
    Status closed = stream.closed().get(30, TimeUnit.SECONDS);
    assertThat(closed.getCode()).isEqualTo(Status.Code.UNAUTHENTICATED);
    assertThat(closed.getDescription()).isEqualTo("delegate token revoked");
    assertThat(fixture.manager().tokens().token(accountId, "doomed").active()).isFalse();
  }

  /** What the scrape's {@code tether_revocations_in_doubt} says. */
  private double inDoubtGauge() {
    return fixture.manager().metrics().registry().get("tether.revocations.in.doubt").gauge().value();
  }

  /** Revokes {@code name} while the commit fails, and so does the read that would tell whether it happened. */
  private void revokeWithItsOutcomeUnknown(String name) {
    faults.revokeOutcomeLost(false);
    assertThatThrownBy(() -> fixture.manager().tokens().revoke(accountId, name, "test"))
        .isInstanceOfSatisfying(StatusRuntimeException.class,
            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE));
  }
}
