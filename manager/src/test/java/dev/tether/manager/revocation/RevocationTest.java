package dev.tether.manager.revocation;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.tether.common.token.DelegateToken;
import dev.tether.delegate.connect.EstablishedSession;
import dev.tether.delegate.connect.HandshakeException;
import dev.tether.delegate.connect.StreamClient;
import dev.tether.manager.server.ManagerSettings;
import dev.tether.manager.store.TetherStore;
import dev.tether.manager.testing.ManagerFixture;
import dev.tether.manager.token.CreatedAccount;
import dev.tether.manager.token.RevokeResult;
import dev.tether.proto.delegate.v1.Register;
import io.grpc.Status;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RevocationTest {

  @TempDir Path dataDir;
  private ManagerFixture fixture;

  @AfterEach
  void stop() {
    if (fixture != null) {
      fixture.close();
    }
  }

  @Test
  void revoke_closesEveryStreamOfThatTokenAndNoOther() throws Exception {
    fixture = new ManagerFixture(dataDir);
    CreatedAccount acme = fixture.account("acme");
    String accountId = acme.account().id();
    DelegateToken doomed = fixture.token(accountId, "doomed").value();
    DelegateToken kept = acme.defaultToken().value();
    int n = 1000;
    List<StreamClient> doomedStreams = fixture.connectMany(accountId, doomed, "doomed", n);
    List<StreamClient> keptStreams = fixture.connectMany(accountId, kept, "kept", 50);

    long started = System.nanoTime();
    RevokeResult result = fixture.manager().tokens().revoke(accountId, "doomed", "test");
    long elapsedMicros = (System.nanoTime() - started) / 1_000;
    System.out.printf("revoking %d in-process streams took %.1f ms%n", n, elapsedMicros / 1000.0);

    assertThat(result.streamsClosed()).isEqualTo(n);
    for (StreamClient client : doomedStreams) {
      Status status = client.closed().get(10, TimeUnit.SECONDS);
      assertThat(status.getCode()).isEqualTo(Status.Code.UNAUTHENTICATED);
      assertThat(status.getDescription()).isEqualTo("delegate token revoked");
    }
    for (StreamClient client : keptStreams) {
      long seq = client.heartbeat();
      await().atMost(Duration.ofSeconds(10)).until(() -> client.lastAckSequence() >= seq);
      assertThat(client.closed()).isNotDone();
    }
    // the manager forgets a cut call when gRPC reports it ended, after its delegate may have seen the close
    await().atMost(Duration.ofSeconds(10)).untilAsserted(() ->
        assertThat(fixture.manager().registry().liveCount()).as("live streams").isEqualTo(50));
  }

  @Test
  void revoke_neverTouchesAnotherAccountsTokenOfTheSameName() throws Exception {
    fixture = new ManagerFixture(dataDir);
    String a = fixture.account("a").account().id();
    String b = fixture.account("b").account().id();
    DelegateToken aCi = fixture.token(a, "ci").value();
    DelegateToken bCi = fixture.token(b, "ci").value();
    List<StreamClient> aStreams = fixture.connectMany(a, aCi, "a", 10);
    List<StreamClient> bStreams = fixture.connectMany(b, bCi, "b", 10);

    assertThat(fixture.manager().tokens().revoke(a, "ci", "test").streamsClosed()).isEqualTo(10);

    for (StreamClient client : aStreams) {
      assertThat(client.closed().get(10, TimeUnit.SECONDS).getCode()).isEqualTo(Status.Code.UNAUTHENTICATED);
    }
    for (StreamClient client : bStreams) {
      long seq = client.heartbeat();
      await().atMost(Duration.ofSeconds(10)).until(() -> client.lastAckSequence() >= seq);
    }
    EstablishedSession stillGood = fixture.handshake(b, bCi, "b-new");
    assertThat(stillGood.tokenPublicId()).isEqualTo(bCi.publicId());
  }

  @Test
  void revoke_acceptsNoHeartbeatAfterTheCommitEvenUnderARace() throws Exception {
    AtomicLong acceptedAtCommit = new AtomicLong(-1);
    AtomicBoolean committed = new AtomicBoolean();
    ManagerFixture[] self = new ManagerFixture[1];
    fixture = new ManagerFixture(dataDir, ManagerSettings.defaults(), store -> observeCommit(store, tokenId -> {
      // runs right after the revocation transaction committed, before any stream is closed
      committed.set(true);
      acceptedAtCommit.set(self[0].manager().registry().fence(tokenId).acceptedHeartbeats());
    }));
    self[0] = fixture;
    String accountId = fixture.account("racy").account().id();
    DelegateToken token = fixture.token(accountId, "hot").value();
    List<StreamClient> streams = fixture.connectMany(accountId, token, "hot", 40);
    long tokenId = fixture.manager().tokens().token(accountId, "hot").id();

    AtomicBoolean stop = new AtomicBoolean();
    CountDownLatch flowing = new CountDownLatch(1);
    List<Thread> hammers = new ArrayList<>();
    for (int t = 0; t < 4; t++) {
      List<StreamClient> mine = streams.subList(t * 10, t * 10 + 10);
      Thread hammer = new Thread(() -> {
        long[] sent = new long[mine.size()];
        while (!stop.get()) {
          for (int i = 0; i < mine.size(); i++) {
            // as fast as the delegate reads its acknowledgements, no faster: a client that lets
            // thousands pile up unread is cut as a slow reader (SlowReaderTest), a race of its own
            if (sent[i] - mine.get(i).acks() < 500) {
              mine.get(i).heartbeat();
              sent[i]++;
            }
          }
          if (fixture.manager().registry().fence(tokenId).acceptedHeartbeats() > 2_000) {
            flowing.countDown();
          }
        }
      });
      hammer.start();
      hammers.add(hammer);
    }
    assertThat(flowing.await(30, TimeUnit.SECONDS)).isTrue();

    RevokeResult result = fixture.manager().tokens().revoke(accountId, "hot", "test");
    long acceptedWhenRevokeReturned = fixture.manager().registry().fence(tokenId).acceptedHeartbeats();
    stop.set(true);
    for (Thread hammer : hammers) {
      hammer.join(10_000);
    }

    assertThat(committed).isTrue();
    assertThat(result.streamsClosed()).isEqualTo(40);
    assertThat(acceptedAtCommit.get()).isGreaterThan(2_000);
    assertThat(acceptedWhenRevokeReturned).isEqualTo(acceptedAtCommit.get());
    assertThat(fixture.manager().registry().fence(tokenId).acceptedHeartbeats()).isEqualTo(acceptedAtCommit.get());
  }

  @Test
  void revoke_dropsSessionsSoAStreamOpenedAfterwardsIsRefused() throws Exception {
    fixture = new ManagerFixture(dataDir);
    CreatedAccount acme = fixture.account("acme");
    String accountId = acme.account().id();
    EstablishedSession session = fixture.handshake(accountId, acme.defaultToken().value(), "late");

    fixture.manager().tokens().revoke(accountId, "default", "test");

    StreamClient late = StreamClient.open(fixture.channel(), session, Register.newBuilder()
        .setHostname("late-host").build());
    Status status = late.closed().get(10, TimeUnit.SECONDS);
    assertThat(status.getCode()).isEqualTo(Status.Code.UNAUTHENTICATED);
    assertThat(status.getDescription()).isEqualTo("delegate authentication failed");
    assertThatThrownBy(() -> fixture.handshake(accountId, acme.defaultToken().value(), "late"))
        .isInstanceOfSatisfying(HandshakeException.class,
            e -> assertThat(e.kind()).isEqualTo(HandshakeException.Kind.TOKEN_REJECTED));
  }

  @Test
  void revoke_ofAnAlreadyRevokedTokenSaysSo() throws Exception {
    fixture = new ManagerFixture(dataDir);
    String accountId = fixture.account("acme").account().id();
    fixture.manager().tokens().revoke(accountId, "default", "alice");

    assertThatThrownBy(() -> fixture.manager().tokens().revoke(accountId, "default", "bob"))
        .hasMessageContaining("FAILED_PRECONDITION")
        .hasMessageContaining("'default'")
        .hasMessageContaining("already revoked")
        .hasMessageContaining("by alice");
  }

  /**
   * "Already revoked" is read from the database, where another connection's revoke is visible a
   * moment before its transaction has forced it to the disk; the answer forces the store first, so
   * that a power cut right after it cannot bring the token or the admin back (docs/security.md).
   */
  @Test
  void alreadyRevoked_isAnsweredOnlyOnceTheStoreIsForcedToTheDisk() throws Exception {
    java.util.concurrent.atomic.AtomicInteger forces = new java.util.concurrent.atomic.AtomicInteger();
    fixture = new ManagerFixture(dataDir, ManagerSettings.defaults(), store -> (TetherStore) Proxy.newProxyInstance(
        TetherStore.class.getClassLoader(), new Class<?>[] {TetherStore.class}, (proxy, method, args) -> {
          if (method.getName().equals("forceToDisk")) {
            forces.incrementAndGet();
          }
          try {
            return method.invoke(store, args);
          } catch (InvocationTargetException e) {
            throw e.getCause();
          }
        }));
    String accountId = fixture.account("acme").account().id();
    fixture.manager().tokens().revoke(accountId, "default", "alice");
    assertThat(forces).as("a revoke's own transaction forces itself").hasValue(0);

    assertThatThrownBy(() -> fixture.manager().tokens().revoke(accountId, "default", "bob"))
        .hasMessageContaining("already revoked");
    assertThat(forces).hasValue(1);

    dev.tether.manager.store.Actor owner = dev.tether.manager.store.Actor.named("owner");
    fixture.manager().admins().create("ops", dev.tether.manager.store.AdminRole.OPERATOR, owner);
    fixture.manager().admins().revoke("ops", owner);
    assertThatThrownBy(() -> fixture.manager().admins().revoke("ops", owner)).hasMessageContaining("already revoked");
    assertThat(forces).hasValue(2);
  }

  /** Wraps the store so that {@code afterCommit} runs right after a revocation commits. */
  static TetherStore observeCommit(TetherStore real, java.util.function.LongConsumer afterCommit) {
    return (TetherStore) Proxy.newProxyInstance(TetherStore.class.getClassLoader(),
        new Class<?>[] {TetherStore.class}, (proxy, method, args) -> {
          try {
            Object result = method.invoke(real, args);
            if (method.getName().equals("revokeToken")) {
              afterCommit.accept((Long) args[0]);
            }
            return result;
          } catch (InvocationTargetException e) {
            throw e.getCause();
          }
        });
  }
}
