package dev.tether.manager.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.tether.common.testing.TokenLedger;
import dev.tether.common.token.DelegateToken;
import dev.tether.delegate.agent.DelegateAgent;
import dev.tether.delegate.agent.Outcome;
import dev.tether.delegate.config.DelegateConfig;
import dev.tether.delegate.config.ManagerEndpoint;
import dev.tether.delegate.config.TokenSource;
import dev.tether.delegate.connect.Channels;
import dev.tether.delegate.connect.HandshakeClient;
import dev.tether.delegate.connect.StreamClient;
import dev.tether.manager.rotation.RotationService;
import dev.tether.manager.rotation.RotationTiming;
import dev.tether.manager.store.Actor;
import dev.tether.manager.store.Rotation;
import dev.tether.manager.store.TokenStatus;
import dev.tether.manager.token.CreatedAccount;
import dev.tether.manager.token.CreatedToken;
import dev.tether.proto.delegate.v1.Register;
import io.grpc.ManagedChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Rotation across replicas sharing an embedded PostgreSQL, and across a restart: the rotation lives
 * in the database, so the replica that did not open it hands the successor to its own delegates, and
 * a restarted replica hands it to a delegate that connects with the old token later.
 */
class ReplicaRotationTest {

  @TempDir Path root;
  private final List<DelegateAgent> agents = new ArrayList<>();
  private final List<CompletableFuture<Outcome>> outcomes = new ArrayList<>();

  @AfterEach
  void stopAgents() {
    agents.forEach(DelegateAgent::stop);
    outcomes.forEach(o -> assertThat(o.join().exitCode()).as(o.join().message()).isEqualTo(Outcome.STOPPED));
  }

  @Test
  void openedOnOneReplica_delegatesOfTheOtherMoveToo_thenTheOldTokenIsRevokedOnBoth() throws Exception {
    // no settling time: both delegates are connected before the rotation opens, and nothing restarts
    try (Replicas replicas = new Replicas(root, 2, new RotationTiming(Duration.ZERO, Duration.ofSeconds(30)))) {
      CreatedAccount account = replicas.get(0).manager().tokens().createAccount("acme", "test");
      String accountId = account.account().id();
      TokenLedger.record(account.defaultToken().value());
      CreatedToken old = replicas.get(0).manager().tokens().createToken(accountId, "ci", "test", null, null);
      DelegateToken oldToken = TokenLedger.record(old.value());
      Path onFirst = tokenFile("on-first.token", oldToken);
      Path onSecond = tokenFile("on-second.token", oldToken);
      start(accountId, onFirst, "on-first", replicas, 0);
      start(accountId, onSecond, "on-second", replicas, 1);
      await().atMost(Duration.ofSeconds(60)).until(() -> replicas.get(0).manager().tracker().size() == 1
          && replicas.get(1).manager().tracker().size() == 1);

      RotationService.Opened opened = replicas.get(0).manager().rotations().open(accountId, "ci", null, Duration.ZERO,
          true, Actor.named("test"));
      DelegateToken successor = TokenLedger.record(opened.successor().value());

      await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> {
        assertThat(Files.readString(onFirst).strip()).isEqualTo(successor.reveal());
        assertThat(Files.readString(onSecond).strip()).as("the delegate of the replica that did not open the rotation")
            .isEqualTo(successor.reveal());
        RotationService.Report report = replicas.get(1).manager().rotations().report(accountId, "ci");
        assertThat(report.count("MOVED")).isEqualTo(2);
        assertThat(report.rotation().state()).isEqualTo(Rotation.State.FINISHED);
        // the finishing replica claims the rotation, then revokes: the revocation comes just after
        assertThat(replicas.get(1).manager().tokens().token(accountId, "ci").status()).isEqualTo(TokenStatus.REVOKED);
      });
      assertThat(replicas.get(0).manager().tokens().token(accountId, "ci").revokeReason())
          .contains("rotation " + opened.rotation().id());
      await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
        assertThat(replicas.get(0).manager().tracker().size()).isEqualTo(1);
        assertThat(replicas.get(1).manager().tracker().size()).isEqualTo(1);
      });
    }
  }

  @Test
  void aRestartedReplicaCarriesOn_aDelegateThatComesBackWithTheOldTokenGetsTheSuccessor() throws Exception {
    try (Replicas replicas = new Replicas(root, 1)) {
      CreatedAccount account = replicas.get(0).manager().tokens().createAccount("acme", "test");
      String accountId = account.account().id();
      TokenLedger.record(account.defaultToken().value());
      DelegateToken oldToken = TokenLedger.record(replicas.get(0).manager().tokens()
          .createToken(accountId, "ci", "test", null, null).value());
      RotationService.Opened opened = replicas.get(0).manager().rotations().open(accountId, "ci", "ci-2027",
          Duration.ofHours(1), true, Actor.named("test"));
      DelegateToken successor = TokenLedger.record(opened.successor().value());

      replicas.get(0).close();
      replicas.start(0);

      Path file = tokenFile("late.token", oldToken);
      start(accountId, file, "late", replicas, 0);
      await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> {
        assertThat(Files.readString(file).strip()).isEqualTo(successor.reveal());
        RotationService.Report report = replicas.get(0).manager().rotations().report(accountId, "ci");
        assertThat(report.count("MOVED")).isEqualTo(1);
      });
      RotationService.Report report = replicas.get(0).manager().rotations().report(accountId, "ci");
      assertThat(report.rotation().state()).as("the grace period is not over").isEqualTo(Rotation.State.OPEN);
      assertThat(replicas.get(0).manager().tokens().token(accountId, "ci").status()).isEqualTo(TokenStatus.ACTIVE);

      RotationService.Report finished = replicas.get(0).manager().rotations().end(accountId, "ci", true,
          Actor.named("test"));
      assertThat(finished.rotation().state()).isEqualTo(Rotation.State.FINISHED);
      assertThat(replicas.get(0).manager().tokens().token(accountId, "ci").status()).isEqualTo(TokenStatus.REVOKED);
      await().atMost(Duration.ofSeconds(30)).untilAsserted(() ->
          assertThat(replicas.get(0).manager().tracker().size()).as("the moved delegate is not cut").isEqualTo(1));
    }
  }

  /**
   * Found by trying it as an operator: a manager restarted after a delegate answered "cannot keep"
   * finished the rotation by itself before that delegate was back, cutting it, because only the
   * delegates connected at that moment held the rotation open.
   */
  @Test
  void aDelegateThatCannotKeepTheSuccessor_holdsTheRotationOpenEvenWhileItIsAway() throws Exception {
    try (Replicas replicas = new Replicas(root, 1)) {
      var manager = replicas.get(0).manager();
      String accountId = accountWithToken(manager, "ci");
      DelegateToken old = lastToken;
      DelegateConfig config = new DelegateConfig(accountId, new TokenSource.Fixed("DELEGATE_TOKEN", old),
          List.of(new ManagerEndpoint("127.0.0.1", replicas.get(0).listenAddress().getPort(), true)), "env-1",
          "SHELL_SCRIPT", List.of(), null, null, List.of());
      DelegateAgent agent = new DelegateAgent(config, "test", e -> Channels.open(e, null, 10, 2));
      CompletableFuture<Outcome> outcome = CompletableFuture.supplyAsync(agent::run);
      await().atMost(Duration.ofSeconds(60)).until(() -> manager.tracker().size() == 1);

      TokenLedger.record(manager.rotations().open(accountId, "ci", null, Duration.ZERO, true, Actor.named("test"))
          .successor().value());
      await().atMost(Duration.ofSeconds(30)).until(() -> manager.rotations().report(accountId, "ci").count("CANNOT_KEEP") == 1);
      agent.stop();
      assertThat(outcome.join().exitCode()).isEqualTo(Outcome.STOPPED);
      await().atMost(Duration.ofSeconds(30)).until(() -> manager.store().listDelegates(accountId).stream()
          .noneMatch(d -> d.connected()));

      // a replica past its settling time, ticking now: the delegate that cannot keep it is away, not moved
      RotationService ticking = new RotationService(manager.store(), manager.tokens(),
          dev.tether.manager.token.MasterKey.loadOrCreate(replicas.dataDirs.get(0).resolve("master.key")),
          java.time.Clock.systemUTC(), new RotationTiming(Duration.ZERO, Duration.ofSeconds(30)));
      ticking.tick();
      assertThat(ticking.report(accountId, "ci").rotation().state()).isEqualTo(Rotation.State.OPEN);
      assertThat(manager.tokens().token(accountId, "ci").status()).isEqualTo(TokenStatus.ACTIVE);

      // once that delegate's record is gone (it was reinstalled elsewhere), the rotation finishes
      var record = manager.store().listDelegates(accountId).get(0);
      assertThat(manager.store().deleteDelegate(record, java.time.Instant.now(), Actor.named("test"))).isTrue();
      ticking.tick();
      assertThat(ticking.report(accountId, "ci").rotation().state()).isEqualTo(Rotation.State.FINISHED);
      assertThat(manager.tokens().token(accountId, "ci").status()).isEqualTo(TokenStatus.REVOKED);
    }
  }

  @Test
  void aDelegateThatIgnoresRotateToken_isCountedAsUnableToKeepIt_andKeepsItsStream() throws Exception {
    // 3 s to answer instead of 30: this delegate never answers
    try (Replicas replicas = new Replicas(root, 1, new RotationTiming(Duration.ofSeconds(20), Duration.ofSeconds(3)))) {
      var manager = replicas.get(0).manager();
      String accountId = accountWithToken(manager, "ci");
      DelegateToken old = lastToken;
      // a delegate of before rotation: its stream client knows no RotateToken and ignores it
      ManagedChannel channel = replicas.channel(0);
      StreamClient stream = StreamClient.open(channel,
          new HandshakeClient(Duration.ofSeconds(10)).handshake(channel, accountId, old, "old-delegate"),
          Register.newBuilder().setHostname("old-host").build());
      stream.registered().get(10, TimeUnit.SECONDS);
      var heartbeats = java.util.concurrent.Executors.newSingleThreadScheduledExecutor();
      heartbeats.scheduleAtFixedRate(stream::heartbeat, 2, 2, TimeUnit.SECONDS);

      TokenLedger.record(manager.rotations().open(accountId, "ci", null, Duration.ZERO, true, Actor.named("test"))
          .successor().value());
      await().atMost(Duration.ofSeconds(90)).untilAsserted(() -> {
        RotationService.Report report = manager.rotations().report(accountId, "ci");
        assertThat(report.delegates()).singleElement().satisfies(d -> {
          assertThat(d.outcome()).isEqualTo("NO_ANSWER");
          assertThat(d.reason()).isEqualTo("no answer within 3 s: the delegate does not support rotation (an older version?)");
        });
      });
      assertThat(stream.closed()).as("the stream stays up").isNotDone();
      assertThat(manager.rotations().report(accountId, "ci").rotation().state()).isEqualTo(Rotation.State.OPEN);
      heartbeats.shutdownNow();
      stream.goodbye("done");
      channel.shutdownNow();
    }
  }

  /**
   * The Kubernetes case: the successor is kept in the Secret, and the mounted token file the delegate
   * reads shows it only when the kubelet refreshes it, a minute later. Until then the file holds the
   * token the delegate moved away from, which must not look like a new token (it made the delegate
   * reconnect every half second before).
   */
  @Test
  void successorKeptElsewhere_theStaleTokenFileIsNoChange_andItsRefreshIsNone() throws Exception {
    try (Replicas replicas = new Replicas(root, 1)) {
      var manager = replicas.get(0).manager();
      String accountId = accountWithToken(manager, "ci");
      DelegateToken old = lastToken;
      Path mounted = tokenFile("mounted.token", old);
      java.util.concurrent.atomic.AtomicReference<DelegateToken> secret = new java.util.concurrent.atomic.AtomicReference<>(old);
      dev.tether.delegate.rotation.TokenKeeper inTheSecret = new dev.tether.delegate.rotation.TokenKeeper() {
        @Override
        public String describe() {
          return "Secret tether/builder-1-token (a stand-in)";
        }

        @Override
        public void keep(DelegateToken successor) {
          secret.set(successor);
        }
      };
      DelegateConfig config = new DelegateConfig(accountId, new TokenSource.File("DELEGATE_TOKEN_FILE", mounted),
          List.of(new ManagerEndpoint("127.0.0.1", replicas.get(0).listenAddress().getPort(), true)), "k8s-1",
          "KUBERNETES", List.of(), null, null, null, List.of(), inTheSecret);
      DelegateAgent agent = new DelegateAgent(config, "test", e -> Channels.open(e, null, 10, 2));
      agents.add(agent);
      outcomes.add(CompletableFuture.supplyAsync(agent::run));
      await().atMost(Duration.ofSeconds(60)).until(() -> manager.tracker().size() == 1);

      DelegateToken successor = TokenLedger.record(manager.rotations().open(accountId, "ci", null, Duration.ofHours(1),
          true, Actor.named("test")).successor().value());
      await().atMost(Duration.ofSeconds(30)).until(() -> manager.rotations().report(accountId, "ci").count("MOVED") == 1);
      assertThat(secret.get()).isEqualTo(successor);
      assertThat(Files.readString(mounted).strip()).as("the mounted file is not refreshed yet").isEqualTo(old.reveal());
      var connectedSince = manager.store().listDelegates(accountId).get(0).connectedSince();

      // one stream, kept while the file is stale, and kept when the kubelet refreshes it
      await().during(Duration.ofSeconds(3)).atMost(Duration.ofSeconds(10)).until(() ->
          manager.store().listDelegates(accountId).get(0).connectedSince().equals(connectedSince));
      Files.writeString(mounted, successor.reveal() + "\n");
      await().during(Duration.ofSeconds(3)).atMost(Duration.ofSeconds(10)).until(() ->
          manager.store().listDelegates(accountId).get(0).connectedSince().equals(connectedSince));
      assertThat(manager.store().listDelegates(accountId).get(0).tokenName()).isEqualTo("ci-r2");
    }
  }

  /**
   * docs/security.md: a delegate reports MOVED only on a stream proved with the successor, and answers
   * for a rotation a stream was not sent are ignored. Forged answers on the old token's stream and on
   * another token's stream change nothing; each is followed by a heartbeat whose acknowledgement shows
   * the answer was handled (a stream's messages are handled in order).
   */
  @Test
  void forgedAnswers_movedOnTheOldTokensStream_orFromAStreamNotSentIt_areIgnored() throws Exception {
    try (Replicas replicas = new Replicas(root, 1)) {
      var manager = replicas.get(0).manager();
      String accountId = accountWithToken(manager, "ci");
      DelegateToken old = lastToken;
      DelegateToken other = TokenLedger.record(manager.tokens().createToken(accountId, "other", "test", null, null)
          .value());
      ManagedChannel channel = replicas.channel(0);
      HandshakeClient handshakes = new HandshakeClient(Duration.ofSeconds(10));
      StreamClient onOld = StreamClient.open(channel, handshakes.handshake(channel, accountId, old, "on-old"),
          Register.newBuilder().setHostname("old-host").build());
      StreamClient onOther = StreamClient.open(channel, handshakes.handshake(channel, accountId, other, "on-other"),
          Register.newBuilder().setHostname("other-host").build());
      onOld.registered().get(10, TimeUnit.SECONDS);
      onOther.registered().get(10, TimeUnit.SECONDS);

      RotationService.Opened opened = manager.rotations().open(accountId, "ci", null, Duration.ofHours(1), true,
          Actor.named("test"));
      TokenLedger.record(opened.successor().value());
      String id = opened.rotation().id();
      await().atMost(Duration.ofSeconds(30)).until(() -> manager.rotations().report(accountId, "ci").count("SENT") == 1);

      onOld.rotationResult(id, dev.tether.proto.delegate.v1.RotationResult.Outcome.MOVED, null);
      onOther.rotationResult(id, dev.tether.proto.delegate.v1.RotationResult.Outcome.CANNOT_KEEP, "forged");
      long sequenceOld = onOld.heartbeat();
      long sequenceOther = onOther.heartbeat();
      await().atMost(Duration.ofSeconds(30)).until(() -> onOld.lastAckSequence() >= sequenceOld
          && onOther.lastAckSequence() >= sequenceOther);

      RotationService.Report report = manager.rotations().report(accountId, "ci");
      assertThat(report.count("MOVED")).isZero();
      assertThat(report.count("CANNOT_KEEP")).isZero();
      assertThat(report.delegates()).singleElement().satisfies(d -> {
        assertThat(d.delegate().name()).isEqualTo("on-old");
        assertThat(d.outcome()).isEqualTo("SENT");
      });
      onOld.goodbye("done");
      onOther.goodbye("done");
      channel.shutdownNow();
    }
  }

  private DelegateToken lastToken;

  /** A new account with a token named {@code name} (kept in {@link #lastToken}); returns the account's id. */
  private String accountWithToken(dev.tether.manager.server.Manager manager, String name) {
    CreatedAccount account = manager.tokens().createAccount("acme", "test");
    TokenLedger.record(account.defaultToken().value());
    lastToken = TokenLedger.record(manager.tokens().createToken(account.account().id(), name, "test", null, null).value());
    return account.account().id();
  }

  private void start(String accountId, Path tokenFile, String name, Replicas replicas, int replica) {
    DelegateConfig config = new DelegateConfig(accountId, new TokenSource.File("DELEGATE_TOKEN_FILE", tokenFile),
        List.of(new ManagerEndpoint("127.0.0.1", replicas.get(replica).listenAddress().getPort(), true)), name,
        "SHELL_SCRIPT", List.of(), null, null, List.of());
    DelegateAgent agent = new DelegateAgent(config, "test", e -> Channels.open(e, null, 10, 2));
    agents.add(agent);
    outcomes.add(CompletableFuture.supplyAsync(agent::run));
  }

  private Path tokenFile(String name, DelegateToken token) throws Exception {
    Path file = Files.createFile(root.resolve(name),
        PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
    Files.writeString(file, token.reveal() + "\n");
    return file;
  }
}
