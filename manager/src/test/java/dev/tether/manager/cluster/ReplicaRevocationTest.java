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
import dev.tether.manager.testing.Postgres;
import dev.tether.manager.token.CreatedAccount;
import dev.tether.proto.admin.v1.CreateTokenRequest;
import dev.tether.proto.admin.v1.ReplicaRevocation;
import dev.tether.proto.admin.v1.RevokeTokenRequest;
import dev.tether.proto.admin.v1.RevokeTokenResponse;
import dev.tether.proto.admin.v1.TokenAdminGrpc;
import dev.tether.proto.delegate.v1.Register;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Three manager replicas on one PostgreSQL: revocation reaches every replica, by push or by reconciliation. */
class ReplicaRevocationTest {

  @TempDir Path root;

  private static List<StreamClient> connect(Replicas replicas, int replica, String accountId, DelegateToken token,
      int count) throws Exception {
    ManagedChannel channel = replicas.channel(replica);
    HandshakeClient handshakes = new HandshakeClient(Duration.ofSeconds(10));
    List<StreamClient> out = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      StreamClient c = StreamClient.open(channel, handshakes.handshake(channel, accountId, token, "r" + replica + "-" + i),
          Register.newBuilder().setHostname("host-" + replica + "-" + i).build());
      c.registered().get(10, TimeUnit.SECONDS);
      out.add(c);
    }
    return out;
  }

  @Test
  void revokeOnReplicaA_cutsTheTokensStreamsOnBAndCAndEachConfirms() throws Exception {
    try (Replicas replicas = new Replicas(root, 3)) {
      CreatedAccount account = replicas.get(0).manager().tokens().createAccount("acme", "test");
      String accountId = account.account().id();
      DelegateToken token = TokenLedger.record(account.defaultToken().value());
      List<List<StreamClient>> streams = new ArrayList<>();
      for (int r = 0; r < 3; r++) {
        streams.add(connect(replicas, r, accountId, token, 20));
      }

      long started = System.nanoTime();
      RevokeTokenResponse response = TokenAdminGrpc.newBlockingStub(replicas.adminChannel(0))
          .withCallCredentials(replicas.admin()).withDeadlineAfter(30, TimeUnit.SECONDS)
          .revokeToken(RevokeTokenRequest.newBuilder().setAccountId(accountId).setName("default").build());
      double ms = (System.nanoTime() - started) / 1e6;

      assertThat(response.getStreamsClosed()).isEqualTo(60);
      assertThat(response.getReplicasList()).hasSize(3).allSatisfy(r -> {
        assertThat(r.getConfirmed()).isTrue();
        assertThat(r.getStreamsClosed()).isEqualTo(20);
      });
      assertThat(response.getReplicasList()).extracting(ReplicaRevocation::getReplicaId).containsExactlyInAnyOrder(
          replicas.get(0).manager().cluster().replicaId(), replicas.get(1).manager().cluster().replicaId(),
          replicas.get(2).manager().cluster().replicaId());
      for (List<StreamClient> perReplica : streams) {
        for (StreamClient c : perReplica) {
          Status status = c.closed().get(5, TimeUnit.SECONDS);
          assertThat(status.getDescription()).isEqualTo("delegate token revoked");
        }
      }
      System.out.printf("3 replicas x 20 streams: revoke returned, confirmed by all, in %.1f ms%n", ms);
    }
  }

  @Test
  void replicaThatMissesTheNotification_cutsTheStreamsByReconciliationWithinItsInterval() throws Exception {
    try (Replicas replicas = new Replicas(root, 3)) {
      CreatedAccount account = replicas.get(0).manager().tokens().createAccount("acme", "test");
      String accountId = account.account().id();
      DelegateToken token = TokenLedger.record(account.defaultToken().value());
      List<StreamClient> onB = connect(replicas, 1, accountId, token, 10);
      String b = replicas.get(1).manager().cluster().replicaId();

      // B's database connection for notifications is cut just before the revoke
      assertThat(Postgres.terminate("tether-feed-" + b)).isEqualTo(1);
      long started = System.nanoTime();
      replicas.get(0).manager().tokens().revoke(accountId, "default", "test");

      for (StreamClient c : onB) {
        assertThat(c.closed().get(Replicas.FAST.reconcileInterval().toMillis() + 2_000, TimeUnit.MILLISECONDS)
            .getDescription()).isEqualTo("delegate token revoked");
      }
      System.out.printf("notification missed by one replica: its streams cut after %.0f ms (reconcile interval %d ms)%n",
          (System.nanoTime() - started) / 1e6, Replicas.FAST.reconcileInterval().toMillis());
    }
  }

  @Test
  void sameTokenNameCreatedConcurrentlyOnTwoReplicas_exactlyOneSucceeds() throws Exception {
    try (Replicas replicas = new Replicas(root, 2)) {
      String accountId = replicas.get(0).manager().tokens().createAccount("acme", "test").account().id();
      for (int round = 0; round < 10; round++) {
        String name = "race-" + round;
        CountDownLatch go = new CountDownLatch(1);
        List<CompletableFuture<Status.Code>> outcomes = new ArrayList<>();
        for (int r = 0; r < 2; r++) {
          ManagedChannel channel = replicas.adminChannel(r);
          var admin = replicas.admin();
          outcomes.add(CompletableFuture.supplyAsync(() -> {
            try {
              go.await();
              var created = TokenAdminGrpc.newBlockingStub(channel).withCallCredentials(admin)
                  .withDeadlineAfter(30, TimeUnit.SECONDS)
                  .createToken(CreateTokenRequest.newBuilder().setAccountId(accountId).setName(name).build());
              TokenLedger.record(DelegateToken.parse("created", created.getValue()));
              return Status.Code.OK;
            } catch (StatusRuntimeException e) {
              return e.getStatus().getCode();
            } catch (InterruptedException e) {
              Thread.currentThread().interrupt();
              return Status.Code.CANCELLED;
            } finally {
              channel.shutdown();
            }
          }));
        }
        go.countDown();
        List<Status.Code> codes = outcomes.stream().map(CompletableFuture::join).toList();
        assertThat(codes).containsExactlyInAnyOrder(Status.Code.OK, Status.Code.ALREADY_EXISTS);
      }
    }
  }

  @Test
  void replicaStopped_itsDelegatesFailOverToTheOthers() throws Exception {
    try (Replicas replicas = new Replicas(root, 3)) {
      CreatedAccount account = replicas.get(0).manager().tokens().createAccount("acme", "test");
      String accountId = account.account().id();
      DelegateToken token = TokenLedger.record(account.defaultToken().value());
      List<ManagerEndpoint> all = new ArrayList<>();
      for (int r = 0; r < 3; r++) {
        all.add(new ManagerEndpoint("127.0.0.1", replicas.get(r).listenAddress().getPort(), true));
      }
      int count = 12;
      List<DelegateAgent> agents = new ArrayList<>();
      List<CompletableFuture<Outcome>> outcomes = new ArrayList<>();
      for (int i = 0; i < count; i++) {
        DelegateConfig config = new DelegateConfig(accountId, new TokenSource.Fixed("DELEGATE_TOKEN", token), all,
            "spread-" + i, "SHELL_SCRIPT", List.of(), null, null, List.of());
        DelegateAgent agent = new DelegateAgent(config, "test", e -> Channels.open(e, null, 10, 2));
        agents.add(agent);
        outcomes.add(CompletableFuture.supplyAsync(agent::run));
      }
      await().atMost(Duration.ofSeconds(60)).until(() -> total(replicas, 0, 1, 2) == count);
      int onB = replicas.get(1).manager().tracker().size();
      System.out.printf("%d delegates spread over 3 replicas: %d / %d / %d%n", count,
          replicas.get(0).manager().tracker().size(), onB, replicas.get(2).manager().tracker().size());

      replicas.get(1).close();

      await().atMost(Duration.ofSeconds(60)).until(() -> total(replicas, 0, 2) == count);
      agents.forEach(DelegateAgent::stop);
      assertThat(outcomes).allSatisfy(o -> assertThat(o.join().exitCode()).as(o.join().message()).isEqualTo(Outcome.STOPPED));
    }
  }

  /**
   * A replica's clean stop is one row: at once, the others show the delegates it held disconnected
   * ("manager stopped", not "replica lost" after the lost-after time) and no longer count it among
   * the live replicas, so a revoke right after neither waits for its confirmation nor reports it.
   */
  @Test
  void aStoppedReplica_showsItsDelegatesDisconnectedAtOnce_andIsNotWaitedFor() throws Exception {
    try (Replicas replicas = new Replicas(root, 2)) {
      CreatedAccount account = replicas.get(0).manager().tokens().createAccount("acme", "test");
      String accountId = account.account().id();
      DelegateToken token = TokenLedger.record(account.defaultToken().value());
      List<StreamClient> onB = connect(replicas, 1, accountId, token, 5);
      String b = replicas.get(1).manager().cluster().replicaId();
      assertThat(replicas.get(0).manager().cluster().liveReplicas()).contains(b);

      replicas.get(1).close();

      assertThat(replicas.get(0).manager().cluster().liveReplicas())
          .containsExactly(replicas.get(0).manager().cluster().replicaId());
      assertThat(replicas.get(0).manager().store().listDelegates(accountId)).hasSize(5).allSatisfy(d -> {
        assertThat(d.connected()).isFalse();
        assertThat(d.disconnectReason()).isEqualTo("manager stopped");
        assertThat(d.replicaId()).isEqualTo(b);
      });
      RevokeTokenResponse response = TokenAdminGrpc.newBlockingStub(replicas.adminChannel(0))
          .withCallCredentials(replicas.admin()).withDeadlineAfter(30, TimeUnit.SECONDS)
          .revokeToken(RevokeTokenRequest.newBuilder().setAccountId(accountId).setName("default").build());
      assertThat(response.getReplicasList()).extracting(ReplicaRevocation::getReplicaId)
          .containsExactly(replicas.get(0).manager().cluster().replicaId());
      await().atMost(Duration.ofSeconds(30)).until(() -> onB.stream().allMatch(c -> c.closed().isDone()));
    }
  }

  private static int total(Replicas replicas, int... indexes) {
    int n = 0;
    for (int i : indexes) {
      n += replicas.get(i).manager().tracker().size();
    }
    return n;
  }
}
