package dev.tether.manager.hardening;

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
import dev.tether.manager.server.ManagerSettings;
import dev.tether.manager.store.DelegateRecord;
import dev.tether.manager.token.CreatedAccount;
import dev.tether.delegate.connect.HandshakeClient;
import dev.tether.delegate.connect.HandshakeException;
import io.grpc.ManagedChannel;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Real delegate agents against a real manager through faults: a connection that goes silent, a
 * connection that is cut, and a manager restarted under many delegates.
 */
class NetworkFaultTest {

  @TempDir Path dataDir;

  private static DelegateConfig config(String accountId, DelegateToken token, String name, int port) {
    return new DelegateConfig(accountId, new TokenSource.Fixed("DELEGATE_TOKEN", token),
        List.of(new ManagerEndpoint("127.0.0.1", port, true)), name, "SHELL_SCRIPT", List.of(), null, null, List.of());
  }

  /** Runs an agent whose keepalive pings every 10 s (gRPC's floor) and gives up after 2 s. */
  private static Agent agent(DelegateConfig config) {
    DelegateAgent agent = new DelegateAgent(config, "test", endpoint -> Channels.open(endpoint, null, 10, 2));
    return new Agent(agent, CompletableFuture.supplyAsync(agent::run));
  }

  private record Agent(DelegateAgent agent, CompletableFuture<Outcome> outcome) {
    void stop() {
      agent.stop();
      assertThat(outcome.join().exitCode()).isEqualTo(Outcome.STOPPED);
    }
  }

  private static DelegateRecord record(NettyManager manager, String accountId, String name) {
    manager.server.manager().flush();
    return manager.server.manager().store().listDelegates(accountId).stream()
        .filter(d -> d.name().equals(name)).findFirst().orElseThrow();
  }

  @Test
  void silentConnection_isNoticedByKeepaliveAndTheDelegateReconnects() throws Exception {
    try (NettyManager manager = new NettyManager(dataDir, ManagerSettings.defaults());
        FaultProxy proxy = new FaultProxy(manager.port())) {
      CreatedAccount account = manager.server.manager().tokens().createAccount("acme", "test");
      String accountId = account.account().id();
      DelegateToken token = TokenLedger.record(account.defaultToken().value());
      Agent agent = agent(config(accountId, token, "behind-proxy", proxy.port()));
      await().atMost(Duration.ofSeconds(30)).ignoreExceptions().until(() -> record(manager, accountId, "behind-proxy").connected());
      Instant firstConnection = record(manager, accountId, "behind-proxy").connectedSince();

      long stalledAt = System.nanoTime();
      proxy.stallOpenConnections();

      await().atMost(Duration.ofSeconds(45)).ignoreExceptions().untilAsserted(() -> {
        DelegateRecord d = record(manager, accountId, "behind-proxy");
        assertThat(d.connected()).isTrue();
        assertThat(d.connectedSince()).isAfter(firstConnection);
      });
      double seconds = (System.nanoTime() - stalledAt) / 1e9;
      System.out.printf("black-holed connection: delegate noticed and was back in %.1f s (keepalive 10 s + 2 s)%n", seconds);
      assertThat(seconds).isGreaterThan(9);

      long cutAt = System.nanoTime();
      Instant secondConnection = record(manager, accountId, "behind-proxy").connectedSince();
      proxy.cutAll();
      await().atMost(Duration.ofSeconds(30)).ignoreExceptions().untilAsserted(() -> {
        DelegateRecord d = record(manager, accountId, "behind-proxy");
        assertThat(d.connected()).isTrue();
        assertThat(d.connectedSince()).isAfter(secondConnection);
      });
      System.out.printf("cut connection: delegate back in %.2f s%n", (System.nanoTime() - cutAt) / 1e9);
      agent.stop();
    }
  }

  /**
   * Found by the reconnect benchmark: a channel whose connections failed while the manager was down
   * failed the first calls after the manager was back at once, with the old error, even right after
   * resetConnectBackoff(); each such attempt cost the delegate a whole backoff.
   */
  @Test
  void managerBackAfterAnOutage_theNextAttemptConnectsAndAuthenticates() throws Exception {
    NettyManager first = new NettyManager(dataDir, ManagerSettings.defaults());
    int port = first.port();
    CreatedAccount account = first.server.manager().tokens().createAccount("acme", "test");
    DelegateToken token = TokenLedger.record(account.defaultToken().value());
    first.close();
    ManagedChannel channel = Channels.open(new ManagerEndpoint("127.0.0.1", port, true), null);
    HandshakeClient handshakes = new HandshakeClient(Duration.ofSeconds(10));
    try {
      for (int i = 0; i < 3; i++) {
        assertThat(Channels.connectNow(channel, Duration.ofMillis(300))).isFalse();
        HandshakeException down = org.junit.jupiter.api.Assertions.assertThrows(HandshakeException.class,
            () -> handshakes.handshake(channel, account.account().id(), token, "d"));
        assertThat(down.kind()).isEqualTo(HandshakeException.Kind.TRANSIENT);
        assertThat(down.getMessage()).contains("UNAVAILABLE");
      }
      try (NettyManager second = NettyManager.onPort(dataDir, ManagerSettings.defaults(), port)) {
        long started = System.nanoTime();
        assertThat(Channels.connectNow(channel, Duration.ofSeconds(10))).isTrue();
        assertThat(handshakes.handshake(channel, account.account().id(), token, "d").tokenPublicId())
            .isEqualTo(token.publicId());
        System.out.printf("first attempt after the outage: connected and authenticated in %.0f ms%n",
            (System.nanoTime() - started) / 1e6);
      }
    } finally {
      channel.shutdownNow();
    }
  }

  @Test
  void managerRestart_withManyDelegatesConnected_bringsEveryOneBackAuthenticatedAgain() throws Exception {
    int count = 30;
    NettyManager first = new NettyManager(dataDir, ManagerSettings.defaults());
    int port = first.port();
    CreatedAccount account = first.server.manager().tokens().createAccount("acme", "test");
    String accountId = account.account().id();
    DelegateToken token = TokenLedger.record(account.defaultToken().value());
    List<Agent> agents = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      agents.add(agent(config(accountId, token, "d" + i, port)));
    }
    await().atMost(Duration.ofSeconds(60)).until(() -> first.server.manager().tracker().size() == count);

    first.close();
    long restartedAt = System.nanoTime();
    try (NettyManager second = NettyManager.onPort(dataDir, ManagerSettings.defaults(), port)) {
      await().atMost(Duration.ofSeconds(60)).until(() -> second.server.manager().tracker().size() == count);
      System.out.printf("manager restart: %d delegates back and re-authenticated in %.1f s%n", count,
          (System.nanoTime() - restartedAt) / 1e9);
      second.server.manager().flush();
      assertThat(second.server.manager().store().listDelegates(accountId)).hasSize(count)
          .allSatisfy(d -> assertThat(d.connected()).isTrue());
      agents.forEach(Agent::stop);
    }
  }
}
