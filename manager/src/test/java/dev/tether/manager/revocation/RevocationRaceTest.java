package dev.tether.manager.revocation;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tether.common.testing.TokenLedger;
import dev.tether.common.token.DelegateToken;
import dev.tether.delegate.connect.EstablishedSession;
import dev.tether.delegate.connect.HandshakeException;
import dev.tether.delegate.connect.StreamClient;
import dev.tether.manager.server.ManagerSettings;
import dev.tether.manager.store.TetherStore;
import dev.tether.manager.testing.ManagerFixture;
import dev.tether.manager.token.CreatedAccount;
import dev.tether.manager.token.CreatedToken;
import dev.tether.proto.delegate.v1.Register;
import io.grpc.Status;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Races between a revoke and a delegate that is authenticating or registering at that moment,
 * forced deterministically: the store used by the manager stops the racing side at the exact point
 * until the revoke (and delete) has run. After the race, no session, stream or "connected" row of
 * the revoked token may survive.
 */
class RevocationRaceTest {

  @TempDir Path dataDir;
  private final Gate gate = new Gate();
  private ManagerFixture fixture;
  private String accountId;

  /**
   * Stops the handshake's second read of one token (its re-check at Prove), or a registration of
   * one delegate once its row is written, until released.
   */
  private static final class Gate {
    volatile String tokenPublicId;
    volatile String delegateName;
    final AtomicInteger reads = new AtomicInteger();
    final CountDownLatch paused = new CountDownLatch(1);
    final CountDownLatch release = new CountDownLatch(1);

    void maybeHold(String publicId) throws InterruptedException {
      if (publicId.equals(tokenPublicId) && reads.incrementAndGet() == 2) {
        paused.countDown();
        release.await(30, TimeUnit.SECONDS);
      }
    }
  }

  @BeforeEach
  void start() {
    fixture = new ManagerFixture(dataDir, ManagerSettings.defaults(), this::gated);
    CreatedAccount account = fixture.account("acme");
    accountId = account.account().id();
  }

  @AfterEach
  void stop() {
    gate.release.countDown();
    fixture.close();
  }

  private TetherStore gated(TetherStore store) {
    return (TetherStore) Proxy.newProxyInstance(TetherStore.class.getClassLoader(), new Class<?>[] {TetherStore.class},
        (proxy, method, args) -> {
          Object result;
          try {
            result = method.invoke(store, args);
          } catch (InvocationTargetException e) {
            throw e.getCause();
          }
          if (method.getName().equals("findTokenByPublicId")) {
            // the read has happened (the token was ACTIVE); the revoke runs before the handshake goes on
            gate.maybeHold((String) args[1]);
          }
          if (method.getName().equals("delegateConnected")
              && ((dev.tether.manager.store.DelegateRecord) args[0]).name().equals(gate.delegateName)) {
            // once the row is committed as connected, the revoke runs before the registration goes on
            return ((CompletableFuture<?>) result).thenApplyAsync(id -> {
              gate.paused.countDown();
              try {
                gate.release.await(30, TimeUnit.SECONDS);
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
              }
              return id;
            }, held -> new Thread(held, "registration-gate").start());
          }
          return result;
        });
  }

  /**
   * Found by the review of the revocation path: the handshake read the token as ACTIVE and found no
   * fence; the whole revoke and a delete ran; only then did the handshake create its session, which
   * survived (delete forgets the fence) and opened a stream that registered with the deleted token.
   */
  @Test
  void aHandshakeRacingARevokeAndDelete_leavesNoSessionAndNoStream() throws Exception {
    raceHandshakeAgainst(true);
  }

  @Test
  void aHandshakeRacingARevoke_leavesNoSessionAndNoStream() throws Exception {
    raceHandshakeAgainst(false);
  }

  private void raceHandshakeAgainst(boolean delete) throws Exception {
    CreatedToken created = fixture.token(accountId, "racy");
    DelegateToken token = TokenLedger.record(created.value());
    gate.tokenPublicId = token.publicId();
    CompletableFuture<EstablishedSession> handshake = CompletableFuture.supplyAsync(() -> {
      try {
        return fixture.handshake(accountId, token, "racer");
      } catch (HandshakeException e) {
        throw new java.util.concurrent.CompletionException(e);
      }
    });
    assertThat(gate.paused.await(20, TimeUnit.SECONDS)).as("the handshake reached its re-check").isTrue();

    fixture.manager().tokens().revoke(accountId, "racy", "test");
    if (delete) {
      fixture.manager().tokens().delete(accountId, "racy", "test");
    }
    gate.release.countDown();

    EstablishedSession session;
    try {
      session = handshake.get(20, TimeUnit.SECONDS);
    } catch (java.util.concurrent.ExecutionException refused) {
      assertThat(refused.getCause()).isInstanceOf(HandshakeException.class);
      assertNothingOfTheTokenSurvives();
      return;
    }
    // the handshake answered Accepted before it saw the revoke: its session must be dead
    StreamClient stream = StreamClient.open(fixture.channel(), session, Register.newBuilder().setHostname("racer-host").build());
    Status ended = stream.closed().get(20, TimeUnit.SECONDS);
    assertThat(ended.getCode()).isEqualTo(Status.Code.UNAUTHENTICATED);
    assertNothingOfTheTokenSurvives();
  }

  /**
   * Found by the review of the revocation path: a revoke that closed the stream while its
   * registration was being written left the row saying "connected" until a restart, because the
   * stream never became live and so nobody recorded its end.
   */
  @Test
  void aRegistrationRacingARevoke_leavesTheDelegateShownDisconnected() throws Exception {
    CreatedToken created = fixture.token(accountId, "racy");
    DelegateToken token = TokenLedger.record(created.value());
    gate.delegateName = "registering";
    EstablishedSession session = fixture.handshake(accountId, token, "registering");
    StreamClient stream = StreamClient.open(fixture.channel(), session,
        Register.newBuilder().setHostname("registering-host").build());
    assertThat(gate.paused.await(20, TimeUnit.SECONDS)).as("the registration's row is written").isTrue();

    fixture.manager().tokens().revoke(accountId, "racy", "test");
    gate.release.countDown();

    assertThat(stream.closed().get(20, TimeUnit.SECONDS).getDescription()).isEqualTo("delegate token revoked");
    org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(20)).untilAsserted(() ->
        assertThat(fixture.manager().store().listDelegates(accountId))
            .singleElement().satisfies(d -> assertThat(d.connected()).as("connected").isFalse()));
  }

  private void assertNothingOfTheTokenSurvives() {
    assertThat(fixture.manager().registry().liveCount()).as("live streams").isZero();
    assertThat(fixture.manager().store().listDelegates(accountId)).as("delegates registered").isEmpty();
  }
}
