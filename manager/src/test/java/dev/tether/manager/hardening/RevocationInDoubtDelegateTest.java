package dev.tether.manager.hardening;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.tether.common.testing.TokenLedger;
import dev.tether.common.token.DelegateToken;
import dev.tether.delegate.agent.DelegateAgent;
import dev.tether.delegate.agent.Outcome;
import dev.tether.delegate.config.DelegateConfig;
import dev.tether.delegate.config.ManagerEndpoint;
import dev.tether.delegate.config.TokenSource;
import dev.tether.manager.cluster.ClusterSettings;
import dev.tether.manager.server.ManagerSettings;
import dev.tether.manager.store.DelegateRecord;
import dev.tether.manager.testing.FaultyStore;
import dev.tether.manager.testing.ManagerFixture;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.micrometer.core.instrument.Counter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The real delegate agent, started while its token is fenced on the manager by a revoke whose
 * outcome is unknown: it is told to retry, not that its token was rejected (which ends it with 78),
 * and it connects once the manager finds the token still active.
 */
class RevocationInDoubtDelegateTest {

  @TempDir Path dataDir;
  private final FaultyStore faults = new FaultyStore();
  private final String agentServerName = "tether-agent-" + System.nanoTime();
  private ManagerFixture fixture;
  private Server agentServer;
  private String accountId;

  @BeforeEach
  void start() throws Exception {
    ClusterSettings cluster = ClusterSettings.defaults();
    // settled when the test says so
    fixture = new ManagerFixture(dataDir, ManagerSettings.defaults().withCluster(new ClusterSettings(
        cluster.replicaHeartbeat(), cluster.lostAfter(), Duration.ofHours(1), cluster.confirmTimeout())),
        faults::wrap);
    accountId = fixture.account("acme").account().id();
    agentServer = fixture.manager().addServicesTo(InProcessServerBuilder.forName(agentServerName)).build().start();
  }

  @AfterEach
  void stop() throws Exception {
    faults.up();
    agentServer.shutdownNow();
    agentServer.awaitTermination(10, TimeUnit.SECONDS);
    fixture.close();
  }

  @Test
  void aDelegateStartedWhileItsTokensRevokeIsInDoubt_retries_andConnectsOnceTheTokenIsFoundActive()
      throws Exception {
    DelegateToken kept = TokenLedger.record(fixture.token(accountId, "kept").value());
    faults.revokeOutcomeLost(false);
    assertThatThrownBy(() -> fixture.manager().tokens().revoke(accountId, "kept", "test"))
        .isInstanceOfSatisfying(StatusRuntimeException.class,
            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE));
    faults.up();

    DelegateConfig config = new DelegateConfig(accountId, new TokenSource.Fixed("DELEGATE_TOKEN", kept),
        List.of(new ManagerEndpoint("in-process", 7443, false)), "builder-1", "SHELL_SCRIPT", List.of(), null, null,
        List.of());
    DelegateAgent agent = new DelegateAgent(config, "test", e -> InProcessChannelBuilder.forName(agentServerName)
        .build());
    CompletableFuture<Outcome> outcome = CompletableFuture.supplyAsync(agent::run);
    try {
      await("a handshake answered UNAVAILABLE while the revoke is in doubt").atMost(Duration.ofSeconds(30))
          .until(() -> unavailableHandshakes() >= 1);
      assertThat(outcome).as("the delegate goes on retrying").isNotDone();

      assertThat(fixture.manager().tokens().settleInDoubt()).isEqualTo(1);
      await("the delegate connected").atMost(Duration.ofSeconds(60))
          .until(() -> fixture.manager().store().listDelegates(accountId).stream().anyMatch(DelegateRecord::connected));
    } finally {
      agent.stop();
    }
    assertThat(outcome.get(30, TimeUnit.SECONDS).exitCode()).isEqualTo(Outcome.STOPPED);
  }

  private double unavailableHandshakes() {
    Counter counter = fixture.manager().metrics().registry().find("tether.handshakes").tag("outcome", "unavailable")
        .counter();
    return counter == null ? 0 : counter.count();
  }
}
