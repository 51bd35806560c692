package dev.tether.delegate.ops;

import static dev.tether.delegate.testing.Scrape.value;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tether.common.ops.OpsMetrics;
import dev.tether.common.ops.OpsServer;
import dev.tether.delegate.config.OpsListen;
import dev.tether.delegate.testing.Scrape;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** The delegate's meters as Prometheus reads them: names, types, buckets, and what the listener serves. */
class DelegateMetricsTest {

  private final AtomicLong now = new AtomicLong();
  private final DelegateMetrics metrics = new DelegateMetrics(OpsMetrics.registry(), new Readiness(now::get));

  private Map<String, Double> scrape() {
    return Scrape.samples(metrics.registry().scrape());
  }

  @Test
  void freshDelegate_showsEveryMeterAtZero_andEveryHandshakeOutcome() {
    Map<String, Double> samples = scrape();

    assertThat(value(samples, "tether_delegate_connected")).isZero();
    assertThat(value(samples, "tether_delegate_heartbeats_sent_total")).isZero();
    assertThat(value(samples, "tether_delegate_heartbeat_acks_total")).isZero();
    assertThat(value(samples, "tether_delegate_reconnects_total")).isZero();
    assertThat(value(samples, "tether_delegate_heartbeat_round_trip_seconds_count")).isZero();
    for (String outcome : new String[] {"accepted", "refused", "untrusted", "unavailable", "failed"}) {
      assertThat(value(samples, "tether_delegate_handshakes_total{outcome=\"" + outcome + "\"}")).isZero();
    }
    assertThat(samples.keySet().stream().filter(k -> k.startsWith("tether_delegate_handshakes_total"))).hasSize(5);
  }

  @Test
  void heartbeatsAndAcknowledgements_moveTheCountersAndFillTheExplicitBuckets() {
    metrics.handshake(DelegateMetrics.Handshake.UNAVAILABLE);
    metrics.handshake(DelegateMetrics.Handshake.ACCEPTED);
    metrics.registered(Duration.ofSeconds(10));
    metrics.heartbeatSent();
    metrics.heartbeatSent();
    metrics.acknowledged(TimeUnit.MILLISECONDS.toNanos(3));
    metrics.acknowledged(-1);
    metrics.reconnecting();

    Map<String, Double> samples = scrape();
    assertThat(value(samples, "tether_delegate_connected")).isEqualTo(1);
    assertThat(value(samples, "tether_delegate_handshakes_total{outcome=\"accepted\"}")).isEqualTo(1);
    assertThat(value(samples, "tether_delegate_handshakes_total{outcome=\"unavailable\"}")).isEqualTo(1);
    assertThat(value(samples, "tether_delegate_heartbeats_sent_total")).isEqualTo(2);
    assertThat(value(samples, "tether_delegate_heartbeat_acks_total")).isEqualTo(2);
    assertThat(value(samples, "tether_delegate_reconnects_total")).isEqualTo(1);
    // an acknowledgement whose heartbeat's send time is not known is counted, not timed
    assertThat(value(samples, "tether_delegate_heartbeat_round_trip_seconds_count")).isEqualTo(1);
    assertThat(value(samples, "tether_delegate_heartbeat_round_trip_seconds_sum")).isEqualTo(0.003);
    assertThat(value(samples, "tether_delegate_heartbeat_round_trip_seconds_max")).isEqualTo(0.003);
    assertThat(value(samples, "tether_delegate_heartbeat_round_trip_seconds_bucket{le=\"0.0025\"}")).isZero();
    assertThat(value(samples, "tether_delegate_heartbeat_round_trip_seconds_bucket{le=\"0.005\"}")).isEqualTo(1);
    assertThat(samples.keySet().stream().filter(k -> k.startsWith("tether_delegate_heartbeat_round_trip_seconds_bucket"))
        .map(k -> k.substring(k.indexOf("le=\"") + 4, k.lastIndexOf('"')))
        .map(le -> le.equals("+Inf") ? Double.POSITIVE_INFINITY : Double.parseDouble(le)))
        .containsExactly(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
            Double.POSITIVE_INFINITY);

    now.addAndGet(TimeUnit.SECONDS.toNanos(31));
    assertThat(value(scrape(), "tether_delegate_connected")).as("no acknowledgement for 3 intervals").isZero();
  }

  @Test
  void delegateMeters_passPromtool() throws Exception {
    metrics.handshake(DelegateMetrics.Handshake.ACCEPTED);
    metrics.registered(Duration.ofSeconds(10));
    metrics.heartbeatSent();
    metrics.acknowledged(TimeUnit.MILLISECONDS.toNanos(2));

    Scrape.promtoolCheck(metrics.registry().scrape());
  }

  @Test
  void serve_answersMetricsHealthzAndReadyzWithTheReason() throws Exception {
    metrics.notRegistered("connection refused at 127.0.0.1:7443 (is the manager running, and is"
        + " MANAGER_HOST_AND_PORT right?)");
    try (OpsServer server = metrics.serve(new OpsListen(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0),
        "DELEGATE_OPS_LISTEN"))) {
      InetSocketAddress at = server.address();

      assertThat(Scrape.get(at, "/healthz")).isEqualTo(new Scrape.Answer(200, "ok\n"));
      assertThat(Scrape.get(at, "/readyz")).isEqualTo(new Scrape.Answer(503, "not ready: not registered: connection"
          + " refused at 127.0.0.1:7443 (is the manager running, and is MANAGER_HOST_AND_PORT right?)\n"));
      Scrape.Answer scraped = Scrape.get(at, "/metrics");
      assertThat(scraped.status()).isEqualTo(200);
      Map<String, Double> samples = Scrape.samples(scraped.body());
      assertThat(value(samples, "tether_delegate_connected")).isZero();
      // the JVM and process metrics come with the listener
      assertThat(samples).containsKey("process_files_open_files").containsKey("jvm_threads_live_threads");

      metrics.registered(Duration.ofSeconds(10));
      assertThat(Scrape.get(at, "/readyz")).isEqualTo(new Scrape.Answer(200, "ready\n"));
    }
  }

  @Test
  void serve_onATakenPort_failsNamingTheAddressAndTheSetting() throws Exception {
    try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      OpsListen listen = new OpsListen(new InetSocketAddress(InetAddress.getLoopbackAddress(), taken.getLocalPort()),
          "DELEGATE_OPS_LISTEN");

      assertThatThrownBy(() -> metrics.serve(listen))
          .hasMessage("cannot listen on 127.0.0.1:" + taken.getLocalPort() + " for the ops listener (/metrics,"
              + " /healthz, /readyz): Address already in use (is another program using this port? Choose another"
              + " with DELEGATE_OPS_LISTEN, or 'off')");
    }
  }

  @Test
  void withoutMeters_stillTracksReadiness_andRefusesToServe() {
    DelegateMetrics bare = DelegateMetrics.withoutMeters();
    bare.handshake(DelegateMetrics.Handshake.ACCEPTED);
    bare.registered(Duration.ofSeconds(10));
    bare.heartbeatSent();
    bare.acknowledged(TimeUnit.MILLISECONDS.toNanos(3));
    bare.reconnecting();
    assertThat(bare.readiness().ready()).as("registered and acknowledged").isTrue();
    bare.notRegistered("the stream ended");
    assertThat(bare.readiness().reason()).hasValue("not registered: the stream ended");

    assertThatThrownBy(bare::registry).hasMessage("this delegate keeps no meters (it has no ops listener)");
  }
}
