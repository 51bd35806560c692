package dev.tether.manager.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tether.manager.metrics.ManagerMetrics;
import dev.tether.manager.testing.Postgres;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Files;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** The same storage behaviour on embedded H2 and on a real PostgreSQL. */
class StoreContractTest {

  private static final Actor TEST = Actor.named("test");

  private TetherStore store;

  static Stream<String> databases() {
    return Stream.of("h2", "postgresql");
  }

  private TetherStore open(String kind) throws Exception {
    store = kind.equals("h2")
        ? JdbcStore.open(JdbcStore.h2Url(Files.createTempDirectory("tether-h2")), null, null)
        : JdbcStore.open(Postgres.newDatabase(), "postgres", "postgres");
    return store;
  }

  @AfterEach
  void close() {
    if (store != null) {
      store.close();
    }
  }

  private static final Instant T0 = Instant.parse("2026-11-28T10:00:00Z");

  private static NewToken token(String account, String name, String publicId) {
    return new NewToken(account, name, publicId, "c2VhbGVk", T0, "test", null);
  }

  @ParameterizedTest
  @MethodSource("databases")
  void accountsAndTokens_behaveTheSame(String kind) throws Exception {
    TetherStore s = open(kind);
    assertThat(s.shared()).isEqualTo(kind.equals("postgresql"));
    s.createAccount(new Account("acc1", "acme", T0, "test"), token("acc1", "default", "tid_aaaaaaaaaaaaaaaa"), TEST);
    assertThatThrownBy(() -> s.createAccount(new Account("acc2", "acme", T0, "test"), token("acc2", "default", "tid_bbbbbbbbbbbbbbbb"), TEST))
        .isInstanceOf(DuplicateException.class);
    TokenRecord ci = s.createToken(token("acc1", "ci", "tid_cccccccccccccccc"), "name=ci", TEST);
    assertThatThrownBy(() -> s.createToken(token("acc1", "ci", "tid_dddddddddddddddd"), "dup", TEST))
        .isInstanceOf(DuplicateException.class);
    assertThat(s.listTokens("acc1")).extracting(TokenRecord::name).containsExactly("default", "ci");

    assertThat(s.revokeToken(ci.id(), T0, Actor.named("alice"), "r", "token.revoke")).hasValueSatisfying(t -> {
      assertThat(t.status()).isEqualTo(TokenStatus.REVOKED);
      assertThat(t.revokedBy()).isEqualTo("alice");
    });
    assertThat(s.revokeToken(ci.id(), T0, Actor.named("bob"), "r", "token.revoke")).as("only once").isEmpty();
    assertThat(s.tokensToCut(List.of(ci.id(), s.findToken("acc1", "default").orElseThrow().id(), 999_999L), T0))
        .as("revoked and missing tokens are cut, active ones are not").containsExactlyInAnyOrder(ci.id(), 999_999L);
    assertThat(s.deleteToken(s.findToken("acc1", "default").orElseThrow(), T0, Actor.named("x"))).as("active tokens stay").isFalse();
    assertThat(s.deleteToken(s.findToken("acc1", "ci").orElseThrow(), T0, Actor.named("x"))).isTrue();
    assertThat(s.listAudit("acc1", 100)).extracting(AuditEvent::action)
        .containsExactly("token.delete", "token.revoke", "token.create", "token.create", "account.create");
  }

  @ParameterizedTest
  @MethodSource("databases")
  void finishedRotationsWithTheOldTokenActive_areOnlyThoseWhoseRevokeIsOwed(String kind) throws Exception {
    TetherStore s = open(kind);
    s.createAccount(new Account("acc1", "acme", T0, "test"), token("acc1", "default", "tid_aaaaaaaaaaaaaaaa"), TEST);
    // finished, old token active: owed; cancelled: left active on purpose; finished and revoked: done;
    // still open: not finished
    Rotation owed = rotation(s, "rot_owed", "ci", "tid_cccccccccccccccc", "tid_dddddddddddddddd");
    Rotation cancelled = rotation(s, "rot_cancelled", "cd", "tid_eeeeeeeeeeeeeeee", "tid_ffffffffffffffff");
    Rotation done = rotation(s, "rot_done", "ce", "tid_gggggggggggggggg", "tid_hhhhhhhhhhhhhhhh");
    rotation(s, "rot_open", "cf", "tid_iiiiiiiiiiiiiiii", "tid_jjjjjjjjjjjjjjjj");
    Instant ended = T0.plusSeconds(60);
    // finished, old token active but past its expiry: it ends as EXPIRED, never as REVOKED
    Rotation expired = rotation(s, "rot_expired", "cg", "tid_kkkkkkkkkkkkkkkk", "tid_llllllllllllllll",
        ended.minusSeconds(1));
    assertThat(s.endRotation(expired.id(), Rotation.State.FINISHED, ended, TEST, "token.rotate.finish", "x")).isTrue();
    assertThat(s.endRotation(owed.id(), Rotation.State.FINISHED, ended, TEST, "token.rotate.finish", "x")).isTrue();
    assertThat(s.endRotation(cancelled.id(), Rotation.State.CANCELLED, ended, TEST, "token.rotate.cancel", "x")).isTrue();
    assertThat(s.endRotation(done.id(), Rotation.State.FINISHED, ended, TEST, "token.rotate.finish", "x")).isTrue();
    assertThat(s.revokeToken(done.oldTokenRow(), ended, TEST, "rotated", "token.revoke")).isPresent();

    assertThat(s.finishedWithOldTokenActive(ended, ended)).extracting(Rotation::id).containsExactly("rot_owed");
    assertThat(s.finishedWithOldTokenActive(ended.minusMillis(1), ended)).as("finished after the bound").isEmpty();
    assertThat(s.finishedWithOldTokenActive(ended, ended).get(0)).satisfies(r -> {
      assertThat(r.oldTokenRow()).isEqualTo(owed.oldTokenRow());
      assertThat(r.oldTokenName()).isEqualTo("ci");
      assertThat(r.endedBy()).isEqualTo("test");
    });
  }

  /** An OPEN rotation of a new token {@code name} to a new successor, stored. */
  private static Rotation rotation(TetherStore s, String id, String name, String oldId, String successorId) {
    return rotation(s, id, name, oldId, successorId, null);
  }

  /** As above, the old token expiring at {@code oldExpires} (null: never). */
  private static Rotation rotation(TetherStore s, String id, String name, String oldId, String successorId,
      Instant oldExpires) {
    TokenRecord old = s.createToken(new NewToken("acc1", name, oldId, "c2VhbGVk", T0, "test", oldExpires),
        "name=" + name, TEST);
    TokenRecord successor = s.createToken(token("acc1", name + "-next", successorId), "name=" + name + "-next", TEST);
    Rotation r = new Rotation(id, "acc1", old.id(), oldId, name, successor.id(), successorId, successor.name(),
        "c2VhbGVk", false, java.time.Duration.ofHours(1), Rotation.State.OPEN, T0, "test", null, null);
    s.openRotation(r, TEST, "rotation=" + id);
    return r;
  }

  @ParameterizedTest
  @MethodSource("databases")
  void disconnectsWrittenTogether_endOnlyTheConnectionsTheyName(String kind) throws Exception {
    TetherStore s = open(kind);
    s.createAccount(new Account("acc1", "acme", T0, "test"), token("acc1", "default", "tid_aaaaaaaaaaaaaaaa"), TEST);
    s.replicaSeen(new Replica("rep_a", "127.0.0.1:1", T0, T0));
    String one = s.delegateConnected(delegate("one", T0, "rep_a")).join();
    String two = s.delegateConnected(delegate("two", T0, "rep_a")).join();
    String three = s.delegateConnected(delegate("three", T0, "rep_a")).join();
    // three came back on a new connection before the end of its old one was written
    s.delegateConnected(delegate("three", T0.plusSeconds(5), "rep_a")).join();

    s.delegatesDisconnected(List.of(
        new DelegateStore.Disconnect(one, T0, T0.plusSeconds(6), "UNAUTHENTICATED: delegate token revoked"),
        new DelegateStore.Disconnect(two, T0, T0.plusSeconds(7), "stream ended"),
        new DelegateStore.Disconnect(three, T0, T0.plusSeconds(6), "old connection ended")));

    assertThat(find(s, "one").connected()).isFalse();
    assertThat(find(s, "one").disconnectedAt()).isEqualTo(T0.plusSeconds(6));
    assertThat(find(s, "one").disconnectReason()).isEqualTo("UNAUTHENTICATED: delegate token revoked");
    assertThat(find(s, "two").connected()).isFalse();
    assertThat(find(s, "two").disconnectedAt()).isEqualTo(T0.plusSeconds(7));
    assertThat(find(s, "two").disconnectReason()).isEqualTo("stream ended");
    assertThat(find(s, "three").connected()).isTrue();
    assertThat(find(s, "three").connectedSince()).isEqualTo(T0.plusSeconds(5));
    s.delegatesDisconnected(List.of());
    assertThat(find(s, "three").connected()).isTrue();
  }

  @ParameterizedTest
  @MethodSource("databases")
  void heartbeatTimesWrittenInSeveralTransactions_allLand_andNoOtherRowMoves(String kind) throws Exception {
    TetherStore s = open(kind);
    s.createAccount(new Account("acc1", "acme", T0, "test"), token("acc1", "default", "tid_aaaaaaaaaaaaaaaa"), TEST);
    s.replicaSeen(new Replica("rep_a", "127.0.0.1:1", T0, T0));
    // two full transactions and one row over, and a delegate that is not in the batch
    int count = 2 * JdbcDelegateStore.HEARTBEATS_PER_TRANSACTION + 1;
    Map<String, Instant> times = new HashMap<>();
    List<CompletableFuture<String>> ids = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      ids.add(s.delegateConnected(delegate("d" + i, T0, "rep_a")));
    }
    for (int i = 0; i < count; i++) {
      times.put(ids.get(i).join(), T0.plusSeconds(10 + i));
    }
    s.delegateConnected(delegate("left-out", T0, "rep_a")).join();
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    ((JdbcStore) s).measure(new ManagerMetrics(registry));

    s.recordHeartbeats(times);

    // one transaction for every 250 rows: a revoke meanwhile waits for one of them, not for all 501
    assertThat(registry.get("tether.store.commit.duration").timer().count()).isEqualTo(3);

    List<DelegateRecord> all = s.listDelegates("acc1");
    assertThat(all).hasSize(count + 1);
    for (DelegateRecord d : all) {
      assertThat(d.lastHeartbeat()).as(d.name())
          .isEqualTo(d.name().equals("left-out") ? T0 : T0.plusSeconds(10 + Integer.parseInt(d.name().substring(1))));
    }
  }

  @ParameterizedTest
  @MethodSource("databases")
  void aHeartbeatTime_neverMovesBackInTime_notEvenBehindANewerConnection(String kind) throws Exception {
    TetherStore s = open(kind);
    s.createAccount(new Account("acc1", "acme", T0, "test"), token("acc1", "default", "tid_aaaaaaaaaaaaaaaa"), TEST);
    s.replicaSeen(new Replica("rep_a", "127.0.0.1:1", T0, T0));
    String id = s.delegateConnected(delegate("d", T0, "rep_a")).join();

    s.recordHeartbeats(Map.of(id, T0.plusSeconds(10)));
    s.recordHeartbeats(Map.of(id, T0.plusSeconds(5)));
    assertThat(find(s, "d").lastHeartbeat()).isEqualTo(T0.plusSeconds(10));

    // the delegate connects again at 20 s; its old stream's last time (15 s) is written after that
    s.delegateConnected(delegate("d", T0.plusSeconds(20), "rep_a")).join();
    s.recordHeartbeats(Map.of(id, T0.plusSeconds(15)));
    assertThat(find(s, "d").lastHeartbeat()).isEqualTo(T0.plusSeconds(20));

    s.recordHeartbeats(Map.of(id, T0.plusSeconds(25)));
    assertThat(find(s, "d").lastHeartbeat()).isEqualTo(T0.plusSeconds(25));
  }

  @ParameterizedTest
  @MethodSource("databases")
  void delegatesAndReplicas_behaveTheSame(String kind) throws Exception {
    TetherStore s = open(kind);
    s.createAccount(new Account("acc1", "acme", T0, "test"), token("acc1", "default", "tid_aaaaaaaaaaaaaaaa"), TEST);
    s.replicaSeen(new Replica("rep_a", "127.0.0.1:1", T0, T0));
    s.replicaSeen(new Replica("rep_b", "127.0.0.1:2", T0, T0.plusSeconds(60)));
    String a = s.delegateConnected(delegate("on-a", T0, "rep_a")).join();
    String b = s.delegateConnected(delegate("on-b", T0, "rep_b")).join();

    // a newer connection of the same delegate is not marked disconnected by the old one ending
    Instant reconnect = T0.plusSeconds(5);
    assertThat(s.delegateConnected(delegate("on-b", reconnect, "rep_b")).join()).isEqualTo(b);
    s.delegatesDisconnected(List.of(new DelegateStore.Disconnect(b, T0, T0.plusSeconds(6), "old connection ended")));
    assertThat(find(s, "on-b").connected()).isTrue();

    // replica a stopped being seen: its delegates are shown disconnected, b's are not
    assertThat(s.disconnectDelegatesOfLostReplicas(T0.plusSeconds(30), T0.plusSeconds(61))).isEqualTo(1);
    assertThat(find(s, "on-a").connected()).isFalse();
    assertThat(find(s, "on-a").disconnectReason()).isEqualTo("replica lost: rep_a");
    assertThat(find(s, "on-b").connected()).isTrue();
    assertThat(find(s, "on-b").replicaId()).isEqualTo("rep_b");
    assertThat(s.listReplicas()).extracting(Replica::id).containsExactly("rep_a", "rep_b");

    s.recordRevocationAck(7, "rep_a", 3, T0);
    s.recordRevocationAck(7, "rep_a", 1, T0);
    s.recordRevocationAck(7, "rep_b", 0, T0);
    assertThat(s.revocationAcks(7)).containsEntry("rep_a", 4).containsEntry("rep_b", 0);
    assertThat(Set.of(a, b)).hasSize(2);
  }

  @ParameterizedTest
  @MethodSource("databases")
  void theSameDelegateConnectingTwiceAtOnce_getsOneRecord(String kind) throws Exception {
    TetherStore s = open(kind);
    s.createAccount(new Account("acc1", "acme", T0, "test"), token("acc1", "default", "tid_aaaaaaaaaaaaaaaa"), TEST);
    var pool = java.util.concurrent.Executors.newFixedThreadPool(8);
    try {
      for (int round = 0; round < 20; round++) {
        String name = "twin-" + round;
        var start = new java.util.concurrent.CountDownLatch(1);
        List<java.util.concurrent.Future<String>> ids = new java.util.ArrayList<>();
        for (int i = 0; i < 8; i++) {
          ids.add(pool.submit(() -> {
            start.await();
            return s.delegateConnected(delegate(name, T0, "rep_a")).join();
          }));
        }
        start.countDown();
        java.util.Set<String> distinct = new java.util.HashSet<>();
        for (var f : ids) {
          distinct.add(f.get(30, java.util.concurrent.TimeUnit.SECONDS));
        }
        assertThat(distinct).hasSize(1);
      }
    } finally {
      pool.shutdown();
    }
  }

  @ParameterizedTest
  @MethodSource("databases")
  void aValueFingerprint_isUniqueAcrossAccounts_andTokensWithoutOneDoNotCollide(String kind) throws Exception {
    TetherStore s = open(kind);
    String fingerprint = "ab".repeat(32);
    s.createAccount(new Account("acc1", "acme", T0, "test"), token("acc1", "default", "tid_aaaaaaaaaaaaaaaa"), TEST);
    s.createAccount(new Account("acc2", "other", T0, "test"), token("acc2", "default", "tid_bbbbbbbbbbbbbbbb"), TEST);
    s.createToken(new NewToken("acc1", "legacy", "tid_cccccccccccccccc", "c2VhbGVk", T0, "test", null, fingerprint),
        "name=legacy imported", TEST);

    assertThatThrownBy(() -> s.createToken(new NewToken("acc2", "legacy", "tid_dddddddddddddddd", "c2VhbGVk", T0,
        "test", null, fingerprint), "name=legacy imported", TEST)).isInstanceOf(DuplicateException.class);
    assertThat(s.findTokenByValueFingerprint(fingerprint)).hasValueSatisfying(t -> {
      assertThat(t.accountId()).isEqualTo("acc1");
      assertThat(t.name()).isEqualTo("legacy");
    });
    assertThat(s.findTokenByValueFingerprint("cd".repeat(32))).isEmpty();
    assertThat(s.listTokens("acc2")).extracting(TokenRecord::name).containsExactly("default");
    assertThat(s.listAudit("acc2", 10)).extracting(AuditEvent::action).containsExactly("token.create", "account.create");
  }

  /**
   * Expiry is committed by whichever replica gets there first: one wins, the others find the token
   * ended; and before any commit, a token past its expiry time is already one to cut.
   */
  @ParameterizedTest
  @MethodSource("databases")
  void anExpiredToken_isExpiredNotRevoked_andCutByTimeBeforeAnyCommit(String kind) throws Exception {
    TetherStore s = open(kind);
    s.createAccount(new Account("acc1", "acme", T0, "test"), token("acc1", "default", "tid_aaaaaaaaaaaaaaaa"), TEST);
    TokenRecord brief = s.createToken(new NewToken("acc1", "brief", "tid_cccccccccccccccc", "c2VhbGVk", T0, "test",
        T0.plusSeconds(20), null), "name=brief", TEST);

    assertThat(s.tokensToCut(List.of(brief.id()), T0.plusSeconds(19))).isEmpty();
    assertThat(s.tokensToCut(List.of(brief.id()), T0.plusSeconds(20))).as("at its expiry instant").containsExactly(brief.id());
    assertThat(s.expireToken(brief.id(), T0.plusSeconds(20))).hasValueSatisfying(t -> {
      assertThat(t.status()).isEqualTo(TokenStatus.EXPIRED);
      assertThat(t.revokedBy()).isEqualTo("system");
    });
    assertThat(s.expireToken(brief.id(), T0.plusSeconds(20))).as("a second replica finds it ended").isEmpty();
    assertThat(s.revokeToken(brief.id(), T0.plusSeconds(21), Actor.named("alice"), "r", "token.revoke")).isEmpty();
    assertThat(s.listExpiringTokens()).extracting(TokenRecord::name).doesNotContain("brief");
    assertThat(s.listAudit("acc1", 1)).extracting(AuditEvent::action).containsExactly("token.expire");
    assertThat(s.deleteToken(s.findToken("acc1", "brief").orElseThrow(), T0.plusSeconds(22), Actor.named("x"))).isTrue();
  }

  /** A replica that stopped long ago is forgotten, with its confirmations; the living ones stay. */
  @ParameterizedTest
  @MethodSource("databases")
  void oldReplicasAndConfirmations_areForgotten(String kind) throws Exception {
    TetherStore s = open(kind);
    s.createAccount(new Account("acc1", "acme", T0, "test"), token("acc1", "default", "tid_aaaaaaaaaaaaaaaa"), TEST);
    s.replicaSeen(new Replica("rep_old", "127.0.0.1:1", T0, T0));
    s.replicaSeen(new Replica("rep_me", "127.0.0.1:2", T0, T0));
    s.replicaSeen(new Replica("rep_new", "127.0.0.1:3", T0, T0.plusSeconds(3600)));
    s.delegateConnected(delegate("on-old", T0, "rep_old")).join();
    s.recordRevocationAck(7, "rep_old", 2, T0);
    s.recordRevocationAck(8, "rep_new", 1, T0.plusSeconds(3600));

    assertThat(s.forgetReplicas(T0.plusSeconds(60), "rep_me")).isEqualTo(1);

    assertThat(s.listReplicas()).extracting(Replica::id).containsExactlyInAnyOrder("rep_me", "rep_new");
    assertThat(s.revocationAcks(7)).isEmpty();
    assertThat(s.revocationAcks(8)).containsEntry("rep_new", 1);
    assertThat(find(s, "on-old").connected()).isFalse();
  }

  /**
   * A replica's end is one row: the delegates it left connected read as disconnected at its end,
   * with its reason, those that moved to another replica or ended on their own keep their state,
   * and the ended replica is no longer listed; the records it left can be deleted and pruned.
   */
  @ParameterizedTest
  @MethodSource("databases")
  void aReplicasEnd_showsTheDelegatesItLeftConnectedDisconnected(String kind) throws Exception {
    TetherStore s = open(kind);
    s.createAccount(new Account("acc1", "acme", T0, "test"), token("acc1", "default", "tid_aaaaaaaaaaaaaaaa"), TEST);
    s.replicaSeen(new Replica("rep_a", "127.0.0.1:1", T0, T0));
    s.replicaSeen(new Replica("rep_b", "127.0.0.1:2", T0, T0));
    s.delegateConnected(delegate("left", T0, "rep_a")).join();
    String gone = s.delegateConnected(delegate("gone", T0, "rep_a")).join();
    s.delegateConnected(delegate("moved", T0, "rep_a")).join();
    s.delegatesDisconnected(List.of(new DelegateStore.Disconnect(gone, T0, T0.plusSeconds(2), "goodbye: SIGTERM")));
    s.delegateConnected(delegate("moved", T0.plusSeconds(3), "rep_b")).join();

    s.replicaEnded("rep_a", T0.plusSeconds(10), "manager stopped");
    s.replicaEnded("rep_a", T0.plusSeconds(20), "recorded twice");

    assertThat(find(s, "left").connected()).isFalse();
    assertThat(find(s, "left").disconnectedAt()).isEqualTo(T0.plusSeconds(10));
    assertThat(find(s, "left").disconnectReason()).isEqualTo("manager stopped");
    assertThat(s.findDelegate(find(s, "left").id())).hasValueSatisfying(d -> {
      assertThat(d.connected()).isFalse();
      assertThat(d.disconnectReason()).isEqualTo("manager stopped");
    });
    assertThat(find(s, "gone").disconnectReason()).isEqualTo("goodbye: SIGTERM");
    assertThat(find(s, "gone").disconnectedAt()).isEqualTo(T0.plusSeconds(2));
    assertThat(find(s, "moved").connected()).isTrue();
    assertThat(find(s, "moved").disconnectedAt()).isNull();
    assertThat(s.listReplicas()).extracting(Replica::id).containsExactly("rep_b");
    // another replica's lost-replica sweep leaves an ended replica's delegates as they read
    assertThat(s.disconnectDelegatesOfLostReplicas(T0.plusSeconds(60), T0.plusSeconds(61))).isEqualTo(1);
    assertThat(find(s, "left").disconnectReason()).isEqualTo("manager stopped");
    assertThat(find(s, "moved").disconnectReason()).isEqualTo("replica lost: rep_b");

    // back on a live replica, it reads as connected again
    s.replicaSeen(new Replica("rep_c", "127.0.0.1:3", T0, T0.plusSeconds(70)));
    s.delegateConnected(delegate("left", T0.plusSeconds(70), "rep_c")).join();
    assertThat(find(s, "left").connected()).isTrue();
    assertThat(find(s, "left").disconnectReason()).isNull();
    s.delegateConnected(delegate("stale", T0, "rep_b")).join();
    s.replicaEnded("rep_b", T0.plusSeconds(80), "manager stopped");

    // a record an ended replica left is not connected: it can be pruned (by its replica's end time)
    // and deleted
    assertThat(s.pruneDelegates("acc1", T0.plusSeconds(80), true, T0.plusSeconds(90), TEST))
        .extracting(DelegateRecord::name).containsExactlyInAnyOrder("gone", "moved");
    assertThat(s.pruneDelegates("acc1", T0.plusSeconds(81), false, T0.plusSeconds(90), TEST))
        .extracting(DelegateRecord::name).containsExactlyInAnyOrder("gone", "moved", "stale");
    assertThat(s.listDelegates("acc1")).extracting(DelegateRecord::name).containsExactly("left");
    s.replicaEnded("rep_c", T0.plusSeconds(100), "manager stopped");
    assertThat(s.deleteDelegate(find(s, "left"), T0.plusSeconds(101), TEST)).isTrue();
    assertThat(s.listDelegates("acc1")).isEmpty();
  }

  /**
   * A manager alone on its database: a killed earlier run ends at the next start; an ended run is
   * forgotten once no record reads its end from it, and kept until then.
   */
  @ParameterizedTest
  @MethodSource("databases")
  void earlierRuns_endAtStart_andAreForgottenOnceNoRecordNeedsThem(String kind) throws Exception {
    TetherStore s = open(kind);
    s.createAccount(new Account("acc1", "acme", T0, "test"), token("acc1", "default", "tid_aaaaaaaaaaaaaaaa"), TEST);
    s.replicaSeen(new Replica("rep_stopped", "127.0.0.1:1", T0, T0));
    s.replicaSeen(new Replica("rep_killed", "127.0.0.1:1", T0.plusSeconds(10), T0.plusSeconds(10)));
    s.replicaSeen(new Replica("rep_empty", "127.0.0.1:1", T0, T0));
    s.delegateConnected(delegate("stopped", T0, "rep_stopped")).join();
    s.delegateConnected(delegate("killed", T0.plusSeconds(10), "rep_killed")).join();
    s.replicaEnded("rep_stopped", T0.plusSeconds(5), "manager stopped");
    s.replicaSeen(new Replica("rep_now", "127.0.0.1:1", T0.plusSeconds(30), T0.plusSeconds(30)));

    assertThat(s.earlierRunsEnded("rep_now", T0.plusSeconds(30), "manager restarted")).isEqualTo(2);
    assertThat(s.forgetReplicas(T0.plusSeconds(30), "rep_now")).as("rep_empty only").isEqualTo(1);

    assertThat(s.listReplicas()).extracting(Replica::id).containsExactly("rep_now");
    assertThat(find(s, "stopped").disconnectReason()).isEqualTo("manager stopped");
    assertThat(find(s, "stopped").disconnectedAt()).isEqualTo(T0.plusSeconds(5));
    assertThat(find(s, "killed").connected()).isFalse();
    assertThat(find(s, "killed").disconnectReason()).isEqualTo("manager restarted");
    assertThat(find(s, "killed").disconnectedAt()).isEqualTo(T0.plusSeconds(30));

    s.delegateConnected(delegate("stopped", T0.plusSeconds(40), "rep_now")).join();
    s.delegateConnected(delegate("killed", T0.plusSeconds(40), "rep_now")).join();
    assertThat(s.forgetReplicas(T0.plusSeconds(50), "rep_now")).as("both, now unreferenced").isEqualTo(2);
    assertThat(s.listDelegates("acc1")).allSatisfy(d -> assertThat(d.connected()).isTrue());
  }

  /** Tags are stored as a JSON array: a tag with a comma, a quote or a bracket reads back as written. */
  @ParameterizedTest
  @MethodSource("databases")
  void tags_readBackExactlyAsWritten(String kind) throws Exception {
    TetherStore s = open(kind);
    s.createAccount(new Account("acc1", "acme", T0, "test"), token("acc1", "default", "tid_aaaaaaaaaaaaaaaa"), TEST);
    List<String> tags = List.of("a,b", "quote\"d", "[x]", "ünïcödé", "");
    s.delegateConnected(new DelegateRecord(null, "acc1", "tagged", "tagged-host", "SHELL_SCRIPT", "1", tags,
        "127.0.0.1", "tid_aaaaaaaaaaaaaaaa", "default", true, T0, T0, T0, null, null, "rep_a")).join();
    assertThat(find(s, "tagged").tags()).containsExactlyElementsOf(tags);
  }

  @ParameterizedTest
  @MethodSource("databases")
  void admins_behaveTheSame_andTheLastOwnerStays(String kind) throws Exception {
    TetherStore s = open(kind);
    AdminRecord boot = s.ensureBootstrapOwner("bootstrap", "adm_boot", "digest-1", T0).orElseThrow();
    assertThat(boot.role()).isEqualTo(AdminRole.OWNER);
    assertThat(s.ensureBootstrapOwner("bootstrap", "adm_boot", "digest-1", T0).orElseThrow().id()).as("idempotent")
        .isEqualTo(boot.id());
    assertThat(s.ensureBootstrapOwner("bootstrap", "adm_boot2", "digest-2", T0).orElseThrow().publicId())
        .as("re-keyed").isEqualTo("adm_boot2");
    assertThat(s.findAdminByDigest("digest-1")).as("the old credential").isEmpty();
    assertThat(s.findAdminByDigest("digest-2")).map(AdminRecord::name).hasValue("bootstrap");

    s.createAdmin("viewer-1", "adm_v1", AdminRole.VIEWER, "digest-v", T0, Actor.named("bootstrap"));
    assertThatThrownBy(() -> s.createAdmin("viewer-1", "adm_v2", AdminRole.VIEWER, "digest-w", T0, TEST))
        .isInstanceOf(DuplicateException.class);
    assertThatThrownBy(() -> s.revokeAdmin("bootstrap", T0, TEST)).as("the last active owner")
        .isInstanceOf(LastOwnerException.class);
    assertThat(s.findAdmin("bootstrap")).hasValueSatisfying(a -> assertThat(a.active()).isTrue());

    s.createAdmin("alice", "adm_alice", AdminRole.OWNER, "digest-a", T0, Actor.named("bootstrap"));
    assertThat(s.revokeAdmin("bootstrap", T0.plusSeconds(1), Actor.named("alice"))).hasValueSatisfying(a -> {
      assertThat(a.active()).isFalse();
      assertThat(a.revokedBy()).isEqualTo("alice");
    });
    assertThat(s.revokeAdmin("bootstrap", T0, TEST)).as("only once").isEmpty();
    assertThat(s.ensureBootstrapOwner("bootstrap", "adm_boot3", "digest-3", T0).orElseThrow().active())
        .as("stays revoked").isFalse();
    assertThat(s.findAdminByDigest("digest-3")).as("a revoked bootstrap owner is not re-keyed").isEmpty();
    assertThat(s.deleteAdmin("bootstrap", T0, Actor.named("alice"))).isTrue();
    assertThat(s.ensureBootstrapOwner("bootstrap", "adm_boot4", "digest-4", T0)).as("a deleted one is not re-created")
        .isEmpty();
    assertThat(s.findAdminByDigest("digest-4")).isEmpty();
    assertThat(s.listAdmins()).extracting(AdminRecord::name).containsExactlyInAnyOrder("viewer-1", "alice");
    assertThat(s.listAudit(null, 100)).extracting(AuditEvent::action)
        .contains("admin.create", "admin.revoke", "admin.delete");
  }

  @ParameterizedTest
  @MethodSource("databases")
  void disconnectedDelegates_areDeletedAndPruned_connectedOnesStay(String kind) throws Exception {
    TetherStore s = open(kind);
    s.createAccount(new Account("acc1", "acme", T0, "test"), token("acc1", "default", "tid_aaaaaaaaaaaaaaaa"), TEST);
    String old = s.delegateConnected(delegate("old", T0, null)).join();
    String recent = s.delegateConnected(delegate("recent", T0, null)).join();
    String live = s.delegateConnected(delegate("live", T0, null)).join();
    s.delegatesDisconnected(List.of(new DelegateStore.Disconnect(old, T0, T0.plusSeconds(10), "gone")));
    s.delegatesDisconnected(List.of(new DelegateStore.Disconnect(recent, T0, T0.plusSeconds(1000), "gone")));

    assertThat(s.deleteDelegate(find(s, "live"), T0, TEST)).as("a connected delegate stays").isFalse();
    Instant cutoff = T0.plusSeconds(500);
    assertThat(s.pruneDelegates("acc1", cutoff, true, T0, TEST)).extracting(DelegateRecord::name).containsExactly("old");
    assertThat(s.listDelegates("acc1")).hasSize(3);
    assertThat(s.pruneDelegates("acc1", cutoff, false, T0, TEST)).extracting(DelegateRecord::name).containsExactly("old");
    assertThat(s.listDelegates("acc1")).extracting(DelegateRecord::name).containsExactlyInAnyOrder("recent", "live");
    assertThat(s.deleteDelegate(find(s, "recent"), T0, TEST)).isTrue();
    assertThat(s.findDelegate(recent)).isEmpty();
    assertThat(s.findDelegate(live)).isPresent();
    assertThat(s.listAudit("acc1", 100)).extracting(AuditEvent::action).contains("delegate.prune", "delegate.delete");
  }

  private static DelegateRecord delegate(String name, Instant since, String replica) {
    return new DelegateRecord(null, "acc1", name, name + "-host", "SHELL_SCRIPT", "1", List.of("x"), "127.0.0.1",
        "tid_aaaaaaaaaaaaaaaa", "default", true, since, since, since, null, null, replica);
  }

  private static DelegateRecord find(TetherStore s, String name) {
    return s.listDelegates("acc1").stream().filter(d -> d.name().equals(name)).findFirst().orElseThrow();
  }

}
