package dev.tether.manager.hardening;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.UnsynchronizedAppenderBase;
import dev.tether.common.testing.TokenLedger;
import dev.tether.common.token.DelegateToken;
import dev.tether.delegate.connect.EstablishedSession;
import dev.tether.delegate.connect.StreamClient;
import dev.tether.manager.cluster.ClusterSettings;
import dev.tether.manager.revocation.LiveStream;
import dev.tether.manager.revocation.RevocationRegistry;
import dev.tether.manager.server.ManagerSettings;
import dev.tether.manager.store.StoreException;
import dev.tether.manager.store.TetherStore;
import dev.tether.manager.testing.FaultyStore;
import dev.tether.manager.testing.IdleServerCall;
import dev.tether.manager.testing.ManagerFixture;
import dev.tether.manager.token.TokenService;
import dev.tether.proto.delegate.v1.Register;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.nio.file.Path;
import java.sql.SQLException;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * Races around a revoke whose outcome the manager could not learn (StoreOutageTest has the plain
 * cases): a settling pass that read the token before a retried revoke committed, two revokes that
 * both fail, and a token deleted while its revoke was in doubt. Each was found by a review briefed
 * to break the settling, and failed on its first version. Threads are held at exact points by the
 * store and by the revoke's log line; the settling runs only when the test calls it.
 */
class RevocationInDoubtRaceTest {

  @TempDir Path dataDir;
  private final FaultyStore faults = new FaultyStore();
  /** Threads whose revokeToken fails at once, or (R2) waits until {@link #r2Fails} first. */
  private final CountDownLatch r2Committing = new CountDownLatch(1);
  private final CountDownLatch r2Fails = new CountDownLatch(1);
  /** The settling pass's read of the token, held until released. */
  private final CountDownLatch settlerRead = new CountDownLatch(1);
  private final CountDownLatch releaseSettler = new CountDownLatch(1);
  private ManagerFixture fixture;
  private String accountId;

  @BeforeEach
  void start() {
    ClusterSettings cluster = ClusterSettings.defaults();
    fixture = new ManagerFixture(dataDir, ManagerSettings.defaults().withCluster(new ClusterSettings(
        cluster.replicaHeartbeat(), cluster.lostAfter(), Duration.ofHours(1), cluster.confirmTimeout())),
        real -> holding(faults.wrap(real)));
    accountId = fixture.account("acme").account().id();
  }

  @AfterEach
  void stop() {
    faults.up();
    r2Fails.countDown();
    releaseSettler.countDown();
    fixture.close();
  }

  private TetherStore holding(TetherStore store) {
    return (TetherStore) Proxy.newProxyInstance(TetherStore.class.getClassLoader(), new Class<?>[] {TetherStore.class},
        (proxy, method, args) -> {
          String thread = Thread.currentThread().getName();
          if (method.getName().equals("revokeToken") && thread.startsWith("revoke-")) {
            if (thread.equals("revoke-2")) {
              r2Committing.countDown();
              assertThat(r2Fails.await(30, TimeUnit.SECONDS)).isTrue();
            }
            throw new StoreException("database error during revokeToken: disk full",
                new SQLException("disk full (injected by the test)", "53100"));
          }
          Object result;
          try {
            result = method.invoke(store, args);
          } catch (InvocationTargetException e) {
            throw e.getCause();
          }
          if (method.getName().equals("findTokenByPublicId") && thread.equals("settler")) {
            settlerRead.countDown();
            assertThat(releaseSettler.await(30, TimeUnit.SECONDS)).isTrue();
          }
          return result;
        });
  }

  /** A revoke whose outcome is unknown: its commit fails ({@code commits}: after committing), and so does the read after. */
  private void revokeInDoubt(String name, boolean commits) {
    faults.revokeOutcomeLost(commits);
    assertThatThrownBy(() -> fixture.manager().tokens().revoke(accountId, name, "test"))
        .isInstanceOfSatisfying(StatusRuntimeException.class,
            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE));
    faults.up();
  }

  @Test
  void aSettlingPassThatReadTheTokenBeforeARetriedRevokeCommitted_doesNotLowerItsFence() throws Exception {
    DelegateToken doomed = TokenLedger.record(fixture.token(accountId, "doomed").value());
    StreamClient stream = fixture.connect(accountId, doomed, "doomed-1");
    long row = fixture.manager().tokens().token(accountId, "doomed").id();
    long accepted = fixture.manager().registry().fence(row).acceptedHeartbeats();
    revokeInDoubt("doomed", false);

    // the pass reads the token active, and is held there while the retried revoke commits, its
    // answer lost: in doubt again
    CompletableFuture<Integer> pass = new CompletableFuture<>();
    Thread settler = new Thread(() -> pass.complete(fixture.manager().tokens().settleInDoubt()), "settler");
    settler.start();
    assertThat(settlerRead.await(30, TimeUnit.SECONDS)).isTrue();
    revokeInDoubt("doomed", true);
    assertThat(fixture.manager().tokens().token(accountId, "doomed").active()).isFalse();
    releaseSettler.countDown();
    assertThat(pass.get(30, TimeUnit.SECONDS)).as("the pass settled nothing: the entry it read was replaced").isZero();

    assertThat(fixture.manager().registry().isFenced(row)).as("fenced: its revoke committed").isTrue();
    assertThat(fixture.manager().tokens().inDoubtCount()).isEqualTo(1);
    stream.heartbeat();
    assertThat(fixture.manager().tokens().settleInDoubt()).isEqualTo(1);
    assertThat(stream.closed().get(10, TimeUnit.SECONDS).getDescription()).isEqualTo("delegate token revoked");
    assertThat(fixture.manager().registry().fence(row).acceptedHeartbeats()).isEqualTo(accepted);
  }

  @Test
  void twoRevokesThatBothFail_whileEachCountsTheOther_leaveTheFenceToTheSettlingPass() throws Exception {
    DelegateToken kept = TokenLedger.record(fixture.token(accountId, "kept").value());
    StreamClient stream = fixture.connect(accountId, kept, "kept-1");
    long row = fixture.manager().tokens().token(accountId, "kept").id();
    // revoke-1 fails while revoke-2 commits, and is held on its failure's log line (after its
    // settling, before it counts itself done) until revoke-2 has failed and settled too
    CountDownLatch firstFailed = new CountDownLatch(1);
    CountDownLatch secondDone = new CountDownLatch(1);
    Logger logger = (Logger) LoggerFactory.getLogger(TokenService.class);
    UnsynchronizedAppenderBase<ILoggingEvent> hold = new UnsynchronizedAppenderBase<>() {
      @Override
      protected void append(ILoggingEvent event) {
        if (Thread.currentThread().getName().equals("revoke-1") && event.getFormattedMessage().startsWith("store failure")) {
          firstFailed.countDown();
          try {
            secondDone.await(30, TimeUnit.SECONDS);
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
        }
      }
    };
    hold.start();
    logger.addAppender(hold);
    try {
      CompletableFuture<Status> second = revokeOn("revoke-2", "kept");
      assertThat(r2Committing.await(30, TimeUnit.SECONDS)).isTrue();
      CompletableFuture<Status> first = revokeOn("revoke-1", "kept");
      assertThat(firstFailed.await(30, TimeUnit.SECONDS)).isTrue();
      r2Fails.countDown();
      assertThat(second.get(30, TimeUnit.SECONDS).getCode()).isEqualTo(Status.Code.UNAVAILABLE);
      secondDone.countDown();
      assertThat(first.get(30, TimeUnit.SECONDS).getCode()).isEqualTo(Status.Code.UNAVAILABLE);
    } finally {
      logger.detachAppender(hold);
    }

    // neither could lower the fence while the other ran: the next pass does
    assertThat(fixture.manager().tokens().token(accountId, "kept").active()).isTrue();
    assertThat(fixture.manager().tokens().settleInDoubt()).isEqualTo(1);
    assertThat(fixture.manager().registry().isFenced(row)).isFalse();
    long sequence = stream.heartbeat();
    await().atMost(Duration.ofSeconds(10)).until(() -> stream.lastAckSequence() >= sequence);
    assertThat(fixture.handshake(accountId, kept, "kept-2").tokenPublicId()).isEqualTo(kept.publicId());
  }

  @Test
  void deletingATokenWhoseRevokeWasInDoubt_closesItsStreams_andASessionMadeBeforeItsFenceCannotRegister()
      throws Exception {
    DelegateToken doomed = TokenLedger.record(fixture.token(accountId, "doomed").value());
    StreamClient old = fixture.connect(accountId, doomed, "old");
    EstablishedSession before = fixture.handshake(accountId, doomed, "late");
    long row = fixture.manager().tokens().token(accountId, "doomed").id();
    revokeInDoubt("doomed", true);

    fixture.manager().tokens().delete(accountId, "doomed", "test");

    assertThat(old.closed().get(10, TimeUnit.SECONDS).getDescription()).isEqualTo("delegate token revoked");
    StreamClient late = StreamClient.open(fixture.channel(), before,
        Register.newBuilder().setHostname("late-host").build());
    Status refused = late.closed().get(10, TimeUnit.SECONDS);
    assertThat(refused.getCode()).isEqualTo(Status.Code.UNAUTHENTICATED);
    assertThat(late.registered()).isCompletedExceptionally();
    assertThat(fixture.manager().tokens().inDoubtCount()).isZero();
    // the manager forgets a cut call when gRPC reports it ended, after the delegate may have seen its close
    await().atMost(Duration.ofSeconds(10)).untilAsserted(() ->
        assertThat(fixture.manager().registry().liveCount()).as("live streams").isZero());
    // a call already past the session check when the token was deleted: its fence is still there, cut
    LiveStream straggler = fixture.manager().registry().register(new IdleServerCall(), row, doomed.publicId(), null,
        "a call on its way");
    assertThat(straggler.closeStatus()).isEqualTo(RevocationRegistry.REVOKED);
  }

  /** Revokes {@code name} on a thread named {@code thread}; completes with the status it ended with. */
  private CompletableFuture<Status> revokeOn(String thread, String name) {
    CompletableFuture<Status> ended = new CompletableFuture<>();
    Thread t = new Thread(() -> {
      try {
        fixture.manager().tokens().revoke(accountId, name, "test");
        ended.complete(Status.OK);
      } catch (StatusRuntimeException e) {
        ended.complete(e.getStatus());
      } catch (RuntimeException e) {
        ended.completeExceptionally(e);
      }
    }, thread);
    t.start();
    return ended;
  }
}
