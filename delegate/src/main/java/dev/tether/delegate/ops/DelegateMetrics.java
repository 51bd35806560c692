package dev.tether.delegate.ops;

import static java.util.Objects.requireNonNull;

import dev.tether.common.ops.OpsMetrics;
import dev.tether.common.ops.OpsServer;
import dev.tether.delegate.config.OpsListen;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.time.Duration;
import java.util.EnumMap;
import java.util.Locale;
import java.util.Map;

/**
 * The delegate's own metrics and readiness, what its ops listener serves. No meter has a label
 * that names the delegate, its account or its token: one delegate process is one scrape target,
 * and Prometheus's {@code instance} label tells delegates apart.
 */
public final class DelegateMetrics {

  /** The histogram buckets every Tether histogram uses (docs/observability.md), in seconds. */
  static final Duration[] BUCKETS = {Duration.ofNanos(500_000), Duration.ofMillis(1), Duration.ofNanos(2_500_000),
      Duration.ofMillis(5), Duration.ofMillis(10), Duration.ofMillis(25), Duration.ofMillis(50), Duration.ofMillis(100),
      Duration.ofMillis(250), Duration.ofMillis(500), Duration.ofSeconds(1), Duration.ofMillis(2500),
      Duration.ofSeconds(5), Duration.ofSeconds(10)};

  /** How a handshake ended, the {@code outcome} label of {@code tether_delegate_handshakes_total}. */
  public enum Handshake {
    /** The manager accepted the token; a session was won. */
    ACCEPTED,
    /** The manager knows the token and refused it: revoked or expired. */
    REFUSED,
    /** The manager could not prove that it knows the token: a wrong account id or token, or a man in the middle. */
    UNTRUSTED,
    /** The manager could not be reached or did not answer in time; the delegate retries. */
    UNAVAILABLE,
    /** The manager refused the request itself (protocol version, malformed fields). */
    FAILED;

    String label() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  /** Null without an ops listener: nothing could read the meters, so none are kept. */
  private final Meters meters;
  private final Readiness readiness;

  /** Meters in {@code registry}, readiness on the system's monotonic clock. */
  public DelegateMetrics(PrometheusMeterRegistry registry) {
    this(registry, new Readiness(System::nanoTime));
  }

  public DelegateMetrics(PrometheusMeterRegistry registry, Readiness readiness) {
    this.readiness = requireNonNull(readiness, "readiness");
    this.meters = new Meters(requireNonNull(registry, "registry"), readiness);
  }

  private DelegateMetrics(Readiness readiness) {
    this.readiness = readiness;
    this.meters = null;
  }

  /**
   * Readiness alone, for a delegate without an ops listener: nothing could read its meters, so it
   * keeps none and loads none of Micrometer and Prometheus (about 100 classes, resident for as
   * long as it runs).
   */
  public static DelegateMetrics withoutMeters() {
    return new DelegateMetrics(new Readiness(System::nanoTime));
  }

  public Readiness readiness() {
    return readiness;
  }

  /** The registry of the meters; fails for {@link #withoutMeters}. */
  public PrometheusMeterRegistry registry() {
    return meters().registry;
  }

  /**
   * Adds the JVM and process metrics and serves {@code /metrics}, {@code /healthz} and
   * {@code /readyz} at {@code listen}; call it once, not for {@link #withoutMeters}.
   *
   * @throws IOException when it cannot listen there; the message names the address and the setting
   */
  public OpsServer serve(OpsListen listen) throws IOException {
    PrometheusMeterRegistry registry = registry();
    OpsMetrics.withJvmAndProcess(registry);
    return OpsServer.start(listen.address(), registry, readiness::reason, listen.setting());
  }

  private Meters meters() {
    if (meters == null) {
      throw new IllegalStateException("this delegate keeps no meters (it has no ops listener)");
    }
    return meters;
  }

  public void handshake(Handshake outcome) {
    if (meters != null) {
      meters.handshakes.get(outcome).increment();
    }
  }

  public void registered(Duration heartbeatInterval) {
    readiness.registered(heartbeatInterval);
  }

  public void notRegistered(String why) {
    readiness.notRegistered(why);
  }

  public void heartbeatSent() {
    if (meters != null) {
      meters.heartbeatsSent.increment();
    }
  }

  /** An acknowledgement arrived, {@code roundTripNanos} after its heartbeat went out (negative: not known). */
  public void acknowledged(long roundTripNanos) {
    readiness.acknowledged();
    if (meters != null) {
      meters.acks.increment();
      if (roundTripNanos >= 0) {
        meters.roundTrip.record(Duration.ofNanos(roundTripNanos));
      }
    }
  }

  public void reconnecting() {
    if (meters != null) {
      meters.reconnects.increment();
    }
  }

  /** The delegate's meters, registered together. */
  private static final class Meters {
    private final PrometheusMeterRegistry registry;
    private final Counter heartbeatsSent;
    private final Counter acks;
    private final Counter reconnects;
    private final Timer roundTrip;
    private final Map<Handshake, Counter> handshakes = new EnumMap<>(Handshake.class);

    Meters(PrometheusMeterRegistry registry, Readiness readiness) {
      this.registry = registry;
      Gauge.builder("tether.delegate.connected", readiness, r -> r.ready() ? 1 : 0)
          .description("1 while the delegate holds a registered stream whose heartbeats the manager acknowledges,"
              + " else 0")
          .register(registry);
      heartbeatsSent = Counter.builder("tether.delegate.heartbeats.sent")
          .description("Heartbeats sent to the manager")
          .register(registry);
      acks = Counter.builder("tether.delegate.heartbeat.acks")
          .description("Heartbeat acknowledgements received from the manager")
          .register(registry);
      roundTrip = Timer.builder("tether.delegate.heartbeat.round.trip")
          .description("From a heartbeat sent to its acknowledgement received")
          .serviceLevelObjectives(BUCKETS)
          .register(registry);
      for (Handshake outcome : Handshake.values()) {
        // every outcome is there from the start, at 0, so that rate() and increase() see the first one
        handshakes.put(outcome, Counter.builder("tether.delegate.handshakes")
            .description("Handshakes with the manager, by how they ended")
            .tag("outcome", outcome.label())
            .register(registry));
      }
      reconnects = Counter.builder("tether.delegate.reconnects")
          .description("Connections begun again after a registered stream ended (lost, cut, or a rotated token)")
          .register(registry);
    }
  }
}
