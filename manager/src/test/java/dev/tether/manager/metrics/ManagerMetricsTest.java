package dev.tether.manager.metrics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.tether.common.testing.SecretScanExtension;
import dev.tether.common.token.DelegateToken;
import dev.tether.delegate.connect.StreamClient;
import dev.tether.manager.testing.ManagerFixture;
import dev.tether.manager.token.CreatedAccount;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.search.Search;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** The manager's meters move by exactly what happened: handshakes by outcome, heartbeats, a revoke. */
@ExtendWith(SecretScanExtension.class)
class ManagerMetricsTest {

  @TempDir Path dataDir;
  private ManagerFixture fixture;
  private MeterRegistry registry;
  private String accountId;
  private DelegateToken token;

  @BeforeEach
  void start() {
    fixture = new ManagerFixture(dataDir);
    registry = fixture.manager().metrics().registry();
    CreatedAccount account = fixture.account("acme");
    accountId = account.account().id();
    token = account.defaultToken().value();
  }

  @AfterEach
  void stop() {
    fixture.close();
  }

  private double count(String name, String... tags) {
    Search search = registry.find(name).tags(tags);
    if (search.counter() != null) {
      return search.counter().count();
    }
    if (search.functionCounter() != null) {
      return search.functionCounter().count();
    }
    if (search.timer() != null) {
      return search.timer().count();
    }
    return search.gauge() == null ? Double.NaN : search.gauge().value();
  }

  @Test
  void aDelegatesLife_movesEachMeterByWhatHappened() throws Exception {
    assertThat(count("tether.handshakes", "outcome", "accepted")).isZero();

    StreamClient delegate = fixture.connect(accountId, token, "builder-1");
    assertThat(count("tether.handshakes", "outcome", "accepted")).isEqualTo(1);
    assertThat(count("tether.handshake.duration")).isEqualTo(1);
    assertThat(count("tether.delegates.connected", "account", accountId)).isEqualTo(1);
    // one registration: it waited for the writer once, one transaction wrote it, it was told Registered once
    for (String phase : new String[] {"queued", "commit", "total"}) {
      assertThat(count("tether.registration.duration", "phase", phase)).as(phase).isEqualTo(1);
    }
    assertThat(registry.find("tether.registrations.per.commit").summary().count()).isEqualTo(1);
    assertThat(registry.find("tether.registrations.per.commit").summary().totalAmount()).isEqualTo(1);
    Timer total = registry.find("tether.registration.duration").tag("phase", "total").timer();
    Timer commit = registry.find("tether.registration.duration").tag("phase", "commit").timer();
    assertThat(total.totalTime(TimeUnit.NANOSECONDS))
        .as("Register to Registered holds the transaction that wrote the row")
        .isGreaterThanOrEqualTo(commit.totalTime(TimeUnit.NANOSECONDS)).isPositive();

    for (int i = 0; i < 3; i++) {
      long seq = delegate.heartbeat();
      await().atMost(Duration.ofSeconds(10)).until(() -> delegate.lastAckSequence() >= seq);
    }
    assertThat(count("tether.heartbeats")).isEqualTo(3);
    assertThat(count("tether.heartbeat.ack")).isEqualTo(3);

    assertThat(fixture.manager().tokens().revoke(accountId, "default", "test").streamsClosed()).isEqualTo(1);
    delegate.closed().get(10, TimeUnit.SECONDS);
    assertThat(count("tether.revocations", "cause", "revoke")).isEqualTo(1);
    assertThat(count("tether.revocations", "cause", "expiry")).isZero();
    assertThat(count("tether.streams.closed.by.revocation")).isEqualTo(1);
    for (String phase : new String[] {"fence", "commit", "close", "total"}) {
      assertThat(count("tether.revocation.duration", "phase", phase)).as(phase).isEqualTo(1);
    }
    await().atMost(Duration.ofSeconds(10))
        .until(() -> count("tether.delegates.connected", "account", accountId) == 0);
    assertThat(count("tether.store.commit.duration")).as("account, token and revoke commits").isGreaterThan(2);
    assertThat(count("tether.store.errors")).isZero();

    assertThatThrownBy(() -> fixture.handshake(accountId, token, "builder-2"));
    assertThat(count("tether.handshakes", "outcome", "revoked")).isEqualTo(1);
    assertThat(count("tether.handshakes", "outcome", "accepted")).isEqualTo(1);
  }

  @Test
  void anUnknownToken_isCountedAsAbandonedAfterTheDecoy_andNothingElse() {
    assertThatThrownBy(() -> fixture.handshake(accountId, DelegateToken.generate(), "guesser"));
    await().atMost(Duration.ofSeconds(10))
        .until(() -> count("tether.handshakes", "outcome", "abandoned_after_decoy") == 1);
    double total = registry.find("tether.handshakes").counters().stream().mapToDouble(c -> c.count()).sum();
    assertThat(total).isEqualTo(1);
  }

  @Test
  void theScrape_namesFollowPrometheusConventions_andHoldNoTokenOrDelegateName() throws Exception {
    StreamClient delegate = fixture.connect(accountId, token, "secret-builder-name");
    long seq = delegate.heartbeat();
    await().atMost(Duration.ofSeconds(10)).until(() -> delegate.lastAckSequence() >= seq);

    String scrape = ((PrometheusMeterRegistry) registry).scrape();
    assertThat(scrape)
        .contains("# TYPE tether_handshakes_total counter")
        .contains("tether_handshakes_total{outcome=\"accepted\"} 1.0")
        .contains("tether_handshake_duration_seconds_bucket{le=\"0.5\"}")
        .contains("tether_heartbeats_total 1.0")
        .contains("tether_heartbeat_ack_seconds_count 1")
        .contains("tether_delegates_connected{account=\"" + accountId + "\"} 1.0")
        .contains("tether_revocation_duration_seconds_bucket{phase=\"total\",le=\"1.0\"}")
        .contains("tether_replicas_live 1.0")
        .contains("tether_store_commit_duration_seconds_count")
        .contains("tether_registration_duration_seconds_bucket{phase=\"total\",le=\"10.0\"} 1")
        .contains("tether_registration_duration_seconds_count{phase=\"queued\"} 1")
        .contains("tether_registrations_per_commit_bucket{le=\"1.0\"} 1")
        .doesNotContain(token.reveal())
        .doesNotContain(token.publicId())
        .doesNotContain("secret-builder-name")
        .doesNotContain("\"default\"");
  }
}
