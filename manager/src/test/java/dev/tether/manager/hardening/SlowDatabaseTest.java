package dev.tether.manager.hardening;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tether.common.testing.TokenLedger;
import dev.tether.common.token.DelegateToken;
import dev.tether.manager.cluster.ClusterSettings;
import dev.tether.manager.server.ManagerSettings;
import dev.tether.manager.store.TetherStore;
import dev.tether.manager.testing.ManagerFixture;
import dev.tether.manager.testing.RawHandshake;
import dev.tether.manager.token.CreatedAccount;
import io.grpc.Status;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A database that stops answering (every pooled connection busy, a lock held elsewhere) must not
 * stop the manager's clocks: handshake deadlines and the liveness check run on timers that do no
 * I/O, and a handshake reads the database outside the monitor its deadline needs.
 */
class SlowDatabaseTest {

  @TempDir Path dataDir;
  private final CountDownLatch release = new CountDownLatch(1);
  private volatile String stuckTokenId = "";
  private final AtomicInteger replicaBeats = new AtomicInteger();
  private ManagerFixture fixture;

  @AfterEach
  void stop() {
    release.countDown();
    if (fixture != null) {
      fixture.close();
    }
  }

  private TetherStore slow(TetherStore store) {
    return (TetherStore) Proxy.newProxyInstance(TetherStore.class.getClassLoader(), new Class<?>[] {TetherStore.class},
        (proxy, method, args) -> {
          boolean stuck = (method.getName().equals("findTokenByPublicId") && args[1].equals(stuckTokenId))
              || (method.getName().equals("replicaSeen") && replicaBeats.incrementAndGet() > 1);
          if (stuck) {
            release.await(60, TimeUnit.SECONDS);
          }
          try {
            return method.invoke(store, args);
          } catch (InvocationTargetException e) {
            throw e.getCause();
          }
        });
  }

  private static ManagerSettings settings() {
    return ManagerSettings.defaults().withHandshakeTimeout(Duration.ofMillis(500))
        .withCluster(new ClusterSettings(Duration.ofMillis(100), Duration.ofSeconds(3), Duration.ofSeconds(1),
            Duration.ofSeconds(3)));
  }

  /**
   * Found by the review of the store layer: Begin read the database while holding the monitor that
   * the deadline timer needs, so a read that hung held the deadline (and, with one thread for
   * timers and database work, every other deadline) until the database answered.
   */
  @Test
  void aHandshakeWhoseReadHangs_stillEndsAtItsDeadline() throws Exception {
    fixture = new ManagerFixture(dataDir, settings(), this::slow);
    CreatedAccount account = fixture.account("acme");
    DelegateToken token = TokenLedger.record(account.defaultToken().value());
    stuckTokenId = token.publicId();

    RawHandshake.Exchange exchange = RawHandshake.replay(fixture.channel(),
        java.util.List.of(dev.tether.proto.delegate.v1.HandshakeRequest.newBuilder()
            .setBegin(RawHandshake.begin(account.account().id(), token.publicId())).build()));

    assertThat(release.getCount()).as("the read is still hanging").isEqualTo(1);
    assertThat(exchange.status.getCode()).isIn(Status.Code.DEADLINE_EXCEEDED, Status.Code.UNAUTHENTICATED);
  }

  /**
   * With the replica heartbeat stuck in the database, a stalled handshake elsewhere still gets its
   * deadline: the timers do no database work.
   */
  @Test
  void stuckClusterWork_doesNotHoldUpHandshakeDeadlines() throws Exception {
    fixture = new ManagerFixture(dataDir, settings(), this::slow);
    CreatedAccount account = fixture.account("acme");
    DelegateToken token = TokenLedger.record(account.defaultToken().value());
    org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> replicaBeats.get() > 1);

    RawHandshake.Stalled stalled = RawHandshake.stallAfterChallenge(fixture.channel(),
        RawHandshake.begin(account.account().id(), token.publicId()));

    Object end = stalled.events().poll(10, TimeUnit.SECONDS);
    assertThat(release.getCount()).as("the replica heartbeat is still stuck").isEqualTo(1);
    assertThat(end).isInstanceOf(Status.class);
    assertThat(((Status) end).getCode()).isEqualTo(Status.Code.DEADLINE_EXCEEDED);
  }
}
