package dev.tether.manager.metrics;

import static java.util.Objects.requireNonNull;

import dev.tether.proto.delegate.v1.DelegateStreamGrpc;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.EnumMap;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The manager's own meters, named once here (docs/observability.md lists them). Labels take values
 * from fixed sets, or account ids, which only an admin creates and which appear only once a
 * delegate has authenticated to one: no label holds a token value, a token name or a delegate name.
 * Every duration is a histogram with the same explicit buckets, so that the scrape stays small and
 * quantiles can be aggregated across replicas.
 */
public final class ManagerMetrics {

  /** Bucket bounds of every duration histogram, 0.5 ms to 10 s. */
  static final Duration[] BUCKETS = {
      Duration.ofMillis(0).plusNanos(500_000), Duration.ofMillis(1), Duration.ofNanos(2_500_000),
      Duration.ofMillis(5), Duration.ofMillis(10), Duration.ofMillis(25), Duration.ofMillis(50),
      Duration.ofMillis(100), Duration.ofMillis(250), Duration.ofMillis(500), Duration.ofSeconds(1),
      Duration.ofMillis(2500), Duration.ofSeconds(5), Duration.ofSeconds(10)};

  /** How a handshake ended: the {@code outcome} label of {@code tether_handshakes_total}. */
  public enum HandshakeOutcome {
    ACCEPTED, UNKNOWN_ACCOUNT, UNKNOWN_TOKEN, REVOKED, EXPIRED, BAD_PROOF, ABANDONED_AFTER_DECOY, LIMITED,
    TIMED_OUT, MALFORMED, UNSUPPORTED_VERSION, ABANDONED, TOO_MANY_SESSIONS, UNAVAILABLE;

    public String label() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  /** What cut a token's streams here: the {@code cause} label of {@code tether_revocations_total}. */
  public enum RevocationCause {
    REVOKE, EXPIRY, REPLICA_NOTIFICATION, RECONCILIATION;

    public String label() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  /** The parts of a revoke call: the {@code phase} label of {@code tether_revocation_duration_seconds}. */
  public enum RevocationPhase {
    FENCE, COMMIT, CLOSE, TOTAL;

    public String label() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  /** The parts of a registration: the {@code phase} label of {@code tether_registration_duration_seconds}. */
  public enum RegistrationPhase {
    QUEUED, COMMIT, TOTAL;

    public String label() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  /** Bucket bounds of {@code tether_registrations_per_commit}: 1 to the 256 one commit writes at most. */
  private static final double[] PER_COMMIT_BUCKETS = {1, 2, 4, 8, 16, 32, 64, 128, 256};

  private final MeterRegistry registry;
  private final Map<HandshakeOutcome, Counter> handshakes = new EnumMap<>(HandshakeOutcome.class);
  private final Timer handshakeDuration;
  private final Timer heartbeatAck;
  private final Map<RevocationCause, Counter> revocations = new EnumMap<>(RevocationCause.class);
  private final Map<RevocationPhase, Timer> revocationPhases = new EnumMap<>(RevocationPhase.class);
  private final Map<RegistrationPhase, Timer> registrationPhases = new EnumMap<>(RegistrationPhase.class);
  private final DistributionSummary registrationsPerCommit;
  private final Counter streamsClosedByRevocation;
  private final Timer storeCommit;
  private final Counter storeErrors;
  private final Timer notificationLag;
  private final AtomicInteger replicasLive = new AtomicInteger(1);
  private final AtomicInteger revocationsInDoubt = new AtomicInteger();
  private final Counter adminAuthFailures;
  private final Map<String, AtomicInteger> connectedByAccount = new ConcurrentHashMap<>();
  private final GrpcCallMetrics grpcCalls;

  public ManagerMetrics(MeterRegistry registry) {
    this.registry = requireNonNull(registry, "registry");
    // the delegate stream's session interceptor keeps its calls' meters (Manager.addServicesTo)
    grpcCalls = new GrpcCallMetrics(registry, Set.of(DelegateStreamGrpc.SERVICE_NAME));
    for (HandshakeOutcome outcome : HandshakeOutcome.values()) {
      handshakes.put(outcome, Counter.builder("tether.handshakes")
          .description("Handshakes ended, by outcome")
          .tag("outcome", outcome.label()).register(registry));
    }
    handshakeDuration = timer("tether.handshake.duration", "Handshake, Begin received to Accepted sent");
    heartbeatAck = timer("tether.heartbeat.ack", "Heartbeat received to its acknowledgement sent");
    // every accepted heartbeat is acknowledged and timed once: the count is the timer's, not a second adder
    FunctionCounter.builder("tether.heartbeats", heartbeatAck, Timer::count).description("Heartbeats accepted")
        .register(registry);
    for (RevocationCause cause : RevocationCause.values()) {
      revocations.put(cause, Counter.builder("tether.revocations")
          .description("Tokens whose streams were cut on this replica, by what cut them")
          .tag("cause", cause.label()).register(registry));
    }
    for (RevocationPhase phase : RevocationPhase.values()) {
      revocationPhases.put(phase, Timer.builder("tether.revocation.duration")
          .description("A revoke call on this replica: fence raised, REVOKED committed, streams closed, whole call")
          .tag("phase", phase.label())
          .serviceLevelObjectives(BUCKETS).register(registry));
    }
    for (RegistrationPhase phase : RegistrationPhase.values()) {
      registrationPhases.put(phase, Timer.builder("tether.registration.duration")
          .description("A delegate's registration on this replica: waiting for the writer, the transaction that"
              + " wrote its row, Register received to Registered sent")
          .tag("phase", phase.label())
          .serviceLevelObjectives(BUCKETS).register(registry));
    }
    registrationsPerCommit = DistributionSummary.builder("tether.registrations.per.commit")
        .description("Delegate registrations written by one transaction")
        .serviceLevelObjectives(PER_COMMIT_BUCKETS).register(registry);
    streamsClosedByRevocation = Counter.builder("tether.streams.closed.by.revocation")
        .description("Delegate streams closed because their token was revoked or expired").register(registry);
    storeCommit = timer("tether.store.commit.duration", "One database write transaction, begin to commit (on H2, until forced to the disk)");
    storeErrors = Counter.builder("tether.store.errors").description("Database operations that failed")
        .register(registry);
    notificationLag = timer("tether.cluster.notification.lag",
        "Another replica's revocation commit to its streams cut here (PostgreSQL replicas; includes clock skew)");
    Gauge.builder("tether.replicas.live", replicasLive, AtomicInteger::get)
        .description("Replicas with a fresh heartbeat in the shared database, this one included (1 with H2)")
        .register(registry);
    Gauge.builder("tether.revocations.in.doubt", revocationsInDoubt, AtomicInteger::get)
        .description("Tokens fenced on this replica by a revoke whose commit failed while the database could not be"
            + " read; each is settled (lifted or cut) once the database answers")
        .register(registry);
    adminAuthFailures = Counter.builder("tether.admin.auth.failures")
        .description("Admin calls refused for a missing, malformed, wrong or revoked credential").register(registry);
  }

  /**
   * Micrometer's gRPC call meters on this registry, as the interceptor of both listeners; the
   * delegate stream's calls are metered by its session interceptor, with {@link GrpcCallMetrics#meters}.
   */
  public GrpcCallMetrics grpcCalls() {
    return grpcCalls;
  }

  /** Meters that nothing scrapes, for parts built on their own in tests. */
  public static ManagerMetrics unscraped() {
    return new ManagerMetrics(new io.micrometer.core.instrument.simple.SimpleMeterRegistry());
  }

  private Timer timer(String name, String description) {
    return Timer.builder(name).description(description).serviceLevelObjectives(BUCKETS).register(registry);
  }

  public MeterRegistry registry() {
    return registry;
  }

  public void handshake(HandshakeOutcome outcome) {
    handshakes.get(outcome).increment();
  }

  public void handshakeAccepted(long beginNanos, long nowNanos) {
    handshakes.get(HandshakeOutcome.ACCEPTED).increment();
    handshakeDuration.record(nowNanos - beginNanos, TimeUnit.NANOSECONDS);
  }

  public void heartbeat(long receivedNanos, long ackedNanos) {
    heartbeatAck.record(ackedNanos - receivedNanos, TimeUnit.NANOSECONDS);
  }

  public void revocation(RevocationCause cause) {
    revocations.get(cause).increment();
  }

  public void revocationPhase(RevocationPhase phase, long nanos) {
    revocationPhases.get(phase).record(nanos, TimeUnit.NANOSECONDS);
  }

  /**
   * A transaction wrote the rows of {@code waitedNanos.length} registrations in {@code writeNanos};
   * each waited its entry's time for the writer before it.
   */
  public void registrationsCommitted(long[] waitedNanos, long writeNanos) {
    Timer queued = registrationPhases.get(RegistrationPhase.QUEUED);
    Timer commit = registrationPhases.get(RegistrationPhase.COMMIT);
    for (long waited : waitedNanos) {
      queued.record(waited, TimeUnit.NANOSECONDS);
      commit.record(writeNanos, TimeUnit.NANOSECONDS);
    }
    registrationsPerCommit.record(waitedNanos.length);
  }

  /** A delegate was told Registered, {@code nanos} after its Register arrived. */
  public void registered(long nanos) {
    registrationPhases.get(RegistrationPhase.TOTAL).record(nanos, TimeUnit.NANOSECONDS);
  }

  public void streamsClosedByRevocation(int n) {
    if (n > 0) {
      streamsClosedByRevocation.increment(n);
    }
  }

  public void storeCommit(long nanos) {
    storeCommit.record(nanos, TimeUnit.NANOSECONDS);
  }

  public void storeError() {
    storeErrors.increment();
  }

  public void notificationLag(Duration lag) {
    notificationLag.record(lag.isNegative() ? Duration.ZERO : lag);
  }

  /** Tokens fenced here by a revoke whose outcome is not known yet. */
  public void revocationsInDoubt(int n) {
    revocationsInDoubt.set(n);
  }

  public void replicasLive(int n) {
    replicasLive.set(n);
  }

  public void adminAuthFailure() {
    adminAuthFailures.increment();
  }

  /** A call of the admin API ended: {@code method} as "TokenAdmin/RevokeToken", {@code code} a gRPC status. */
  public void adminCall(String method, io.grpc.Status.Code code) {
    Counter.builder("tether.admin.calls").description("Admin API calls ended, by method and gRPC status")
        .tag("method", method).tag("code", code.name()).register(registry).increment();
  }

  /** A delegate of {@code accountId} registered on this replica ({@code +1}) or its stream ended ({@code -1}). */
  public void delegatesConnected(String accountId, int delta) {
    AtomicInteger n = connectedByAccount.computeIfAbsent(accountId, id -> {
      AtomicInteger count = new AtomicInteger();
      Gauge.builder("tether.delegates.connected", count, AtomicInteger::get)
          .description("Live delegate streams on this replica, by account id")
          .tag("account", id).register(registry);
      return count;
    });
    n.addAndGet(delta);
  }
}
