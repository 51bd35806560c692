package dev.tether.manager.heartbeat;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;


import dev.tether.common.testing.TokenLedger;
import dev.tether.common.token.DelegateToken;
import dev.tether.delegate.connect.StreamClient;
import dev.tether.manager.server.ManagerSettings;
import dev.tether.manager.store.DelegateRecord;
import dev.tether.manager.store.StoreException;
import dev.tether.manager.store.TetherStore;
import dev.tether.manager.testing.ManagerFixture;
import dev.tether.manager.token.CreatedAccount;
import dev.tether.manager.token.RevokeResult;
import dev.tether.proto.delegate.v1.Register;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Registrations waiting for their commit hold none of the threads that run the delegate streams:
 * a manager restarted under thousands of delegates has that many Registers waiting at once, and
 * the delegates already registered must still have their heartbeats acknowledged meanwhile.
 */
class RegistrationWaitTest {

  /**
   * More than the stream pool's threads, spares for waiting tasks included (one a core and 256):
   * had each waiting Register held a thread, the pool would have none left for a heartbeat.
   */
  private static final int WAITING = 300;

  @TempDir Path dataDir;
  private final CompletableFuture<Void> commitsDone = new CompletableFuture<>();
  private final AtomicInteger waiting = new AtomicInteger();
  /** When set, a revoke's commit waits for it: true commits, false fails. */
  private volatile CompletableFuture<Boolean> revokeOutcome;
  private final CountDownLatch revokeCommitting = new CountDownLatch(1);
  private ManagerFixture fixture;
  private String accountId;
  private DelegateToken token;

  @BeforeEach
  void start() {
    // every session of the herd may wait for its stream (one source holds a sixteenth): what is
    // tested is the streams' threads
    fixture = new ManagerFixture(dataDir, ManagerSettings.defaults().withMaxWaitingSessionsPerToken(16 * 2 * WAITING),
        this::slowCommits);
    CreatedAccount account = fixture.account("acme");
    accountId = account.account().id();
    token = TokenLedger.record(account.defaultToken().value());
  }

  @AfterEach
  void stop() {
    commitsDone.complete(null);
    fixture.close();
  }

  /**
   * Registrations of delegates named {@code waiting-*} are committed only once {@link #commitsDone};
   * those of {@code failing-*} fail then. A revoke's commit waits for {@link #revokeOutcome} when set.
   */
  private TetherStore slowCommits(TetherStore store) {
    return (TetherStore) Proxy.newProxyInstance(TetherStore.class.getClassLoader(), new Class<?>[] {TetherStore.class},
        (proxy, method, args) -> {
          if (method.getName().equals("revokeToken") && revokeOutcome != null) {
            // the revoke has raised its fence; its commit waits here, then succeeds or fails
            revokeCommitting.countDown();
            Boolean commits = revokeOutcome.get(30, TimeUnit.SECONDS);
            if (!commits) {
              throw new StoreException("database error during revoke token: disk full", null);
            }
          }
          Object result;
          try {
            result = method.invoke(store, args);
          } catch (InvocationTargetException e) {
            throw e.getCause();
          }
          if (method.getName().equals("delegateConnected")) {
            String name = ((DelegateRecord) args[0]).name();
            if (name.startsWith("waiting-")) {
              waiting.incrementAndGet();
              return commitsDone.thenCompose(done -> (CompletableFuture<?>) result);
            }
            if (name.startsWith("failing-")) {
              return commitsDone.thenCompose(done -> CompletableFuture.failedFuture(
                  new StoreException("database error during record delegate: disk full", null)));
            }
          }
          return result;
        });
  }

  @Test
  void whileManyRegistersWaitForTheirCommit_registeredDelegatesHeartbeatsAreAcknowledged() throws Exception {
    StreamClient steady = fixture.connect(accountId, token, "steady");
    List<StreamClient> herd = new ArrayList<>();
    for (int i = 0; i < WAITING; i++) {
      herd.add(StreamClient.open(fixture.channel(), fixture.handshake(accountId, token, "waiting-" + i),
          Register.newBuilder().setHostname("waiting-" + i + "-host").build()));
    }
    await("every Register of the herd waiting for its commit").atMost(Duration.ofSeconds(60))
        .until(() -> waiting.get() == WAITING);
    // a heartbeat right behind its Register waits for the registration, as it did behind a
    // handler that waited: it is not taken for a heartbeat before Register
    StreamClient eager = herd.get(0);
    eager.heartbeat();

    for (int i = 0; i < 5; i++) {
      steady.heartbeat();
    }
    await("the registered delegate's heartbeats acknowledged meanwhile").atMost(Duration.ofSeconds(30))
        .until(() -> steady.acks() == 5);
    assertThat(herd).noneMatch(client -> client.registered().isDone());

    commitsDone.complete(null);
    for (StreamClient client : herd) {
      client.registered().get(30, TimeUnit.SECONDS);
    }
    await("the heartbeat sent behind a Register acknowledged once it registered").atMost(Duration.ofSeconds(10))
        .until(() -> eager.acks() == 1);
    assertThat(eager.closed()).isNotDone();
    StreamClient last = herd.get(WAITING - 1);
    last.heartbeat();
    await().atMost(Duration.ofSeconds(10)).until(() -> last.acks() == 1);
    assertThat(fixture.manager().store().listDelegates(accountId))
        .filteredOn(DelegateRecord::connected).hasSize(WAITING + 1);
    herd.forEach(StreamClient::close);
  }

  /**
   * Found by the review of this change: a delegate that went away while its Register waited was
   * still added to the live delegates once the row was committed (its end had already been seen),
   * so its record read connected and the manager reported it missing heartbeats for ever.
   */
  @Test
  void aDelegateThatGoesAwayWhileItsRegisterWaits_isShownDisconnected_andNotKeptLive() throws Exception {
    StreamClient gone = StreamClient.open(fixture.channel(), fixture.handshake(accountId, token, "waiting-gone"),
        Register.newBuilder().setHostname("waiting-gone-host").build());
    await().atMost(Duration.ofSeconds(30)).until(() -> waiting.get() == 1);
    gone.close();
    await().atMost(Duration.ofSeconds(30)).until(() -> fixture.manager().registry().liveCount() == 0);

    commitsDone.complete(null);

    await().atMost(Duration.ofSeconds(30)).untilAsserted(() ->
        assertThat(fixture.manager().store().listDelegates(accountId)).singleElement().satisfies(d -> {
          assertThat(d.name()).isEqualTo("waiting-gone");
          assertThat(d.connected()).as("connected").isFalse();
        }));
    assertThat(fixture.manager().tracker().size()).as("delegates the manager holds live").isZero();
  }

  @Test
  void aRegisterWhoseCommitFails_endsTheStreamWithRetryLater() throws Exception {
    StreamClient failing = StreamClient.open(fixture.channel(), fixture.handshake(accountId, token, "failing-1"),
        Register.newBuilder().setHostname("failing-1-host").build());
    commitsDone.complete(null);

    Status ended = failing.closed().get(30, TimeUnit.SECONDS);
    assertThat(ended.getCode()).isEqualTo(Status.Code.UNAVAILABLE);
    assertThat(ended.getDescription()).isEqualTo("manager storage unavailable, retry later");
    assertThat(failing.registered()).as("never registered").isCompletedExceptionally();
  }

  /**
   * A revoke raises its token's fence, commits, then closes the token's streams. A Register whose
   * row is committed in between is not registered, and left to the revoke: closed with the token's
   * other streams, counted, with the token's state (found by the review of this change: closing it
   * at once took it from the revoke's count and its delegate never learned the token was revoked).
   */
  @Test
  void aRegisterCommittedWhileARevokeCommits_isClosedByThatRevoke() throws Exception {
    StreamClient racing = registerDuringRevoke();
    revokeOutcome.complete(true);

    assertThat(revoke.get(30, TimeUnit.SECONDS).streamsClosed()).as("streams the revoke closed").isEqualTo(1);
    assertThat(racing.closed().get(30, TimeUnit.SECONDS).getDescription()).isEqualTo("delegate token revoked");
    assertThat(racing.tokenState()).contains("revoked");
    assertThat(racing.registered()).as("never registered").isCompletedExceptionally();
    await().atMost(Duration.ofSeconds(30)).untilAsserted(() ->
        assertThat(fixture.manager().store().listDelegates(accountId)).singleElement().satisfies(d -> {
          assertThat(d.connected()).as("connected").isFalse();
          assertThat(d.disconnectReason()).contains("revoked");
        }));
  }

  /** ... and when that revoke fails to commit, the stream is closed so that its delegate retries. */
  @Test
  void aRegisterCommittedWhileARevokeFails_isClosedForARetry_whichSucceeds() throws Exception {
    StreamClient racing = registerDuringRevoke();
    revokeOutcome.complete(false);

    assertThatThrownBy(() -> revoke.get(30, TimeUnit.SECONDS)).hasCauseInstanceOf(StatusRuntimeException.class);
    Status ended = racing.closed().get(30, TimeUnit.SECONDS);
    assertThat(ended.getCode()).isEqualTo(Status.Code.UNAVAILABLE);
    assertThat(ended.getDescription()).contains("retry");
    assertThat(racing.registered()).as("never registered").isCompletedExceptionally();

    revokeOutcome = null;
    StreamClient retry = fixture.connect(accountId, token, "steady");
    retry.heartbeat();
    await().atMost(Duration.ofSeconds(10)).until(() -> retry.acks() == 1);
  }

  private CompletableFuture<RevokeResult> revoke;

  /** A Register waiting for its commit, and a revoke of its token waiting for its own; then the Register's commit. */
  private StreamClient registerDuringRevoke() throws Exception {
    StreamClient racing = StreamClient.open(fixture.channel(), fixture.handshake(accountId, token, "waiting-racing"),
        Register.newBuilder().setHostname("waiting-racing-host").build());
    await().atMost(Duration.ofSeconds(30)).until(() -> waiting.get() == 1);
    revokeOutcome = new CompletableFuture<>();
    revoke = CompletableFuture.supplyAsync(() -> fixture.manager().tokens().revoke(accountId, "default", "test"),
        command -> new Thread(command, "revoke").start());
    assertThat(revokeCommitting.await(30, TimeUnit.SECONDS)).as("the revoke is committing").isTrue();

    commitsDone.complete(null);
    // the registration's row is written and the fence refused the rest: no answer, no close yet
    await().atMost(Duration.ofSeconds(30)).untilAsserted(() ->
        assertThat(fixture.manager().store().listDelegates(accountId)).singleElement()
            .satisfies(d -> assertThat(d.name()).isEqualTo("waiting-racing")));
    assertThat(racing.registered()).isNotDone();
    assertThat(racing.closed()).isNotDone();
    return racing;
  }
}
