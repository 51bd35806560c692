package dev.tether.manager.metrics;

import static java.util.concurrent.TimeUnit.NANOSECONDS;

import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.Status;
import io.micrometer.core.instrument.Clock;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.binder.grpc.MetricCollectingServerInterceptor;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;

/**
 * Micrometer's gRPC server meters ({@code grpc_server_processing_duration_seconds},
 * {@code grpc_server_requests_received_messages_total}, {@code grpc_server_responses_sent_messages_total}),
 * for every call of both listeners. Micrometer's interceptor wraps each call in two objects and
 * keeps a timer sample and two functions for it until it ends: 120 bytes a call, which a delegate's
 * stream holds for as long as the delegate is connected. The calls of the services named
 * {@code keptByTheirCalls} are left unwrapped here: the interceptor in front of them keeps the same
 * meters ({@link #meters}) in objects it keeps for each call anyway (the delegate stream's revocable
 * call and its listener), with the same names, tags and status codes as Micrometer's interceptor.
 */
public final class GrpcCallMetrics extends MetricCollectingServerInterceptor {

  private final Set<String> keptByTheirCalls;
  private final Clock clock;
  private final Map<MethodDescriptor<?, ?>, Function<Status.Code, Timer>> timers = new ConcurrentHashMap<>();
  private final Map<MethodDescriptor<?, ?>, CallMeters> meters = new ConcurrentHashMap<>();

  /** Meters every call of every service but those named {@code keptByTheirCalls}, which meter themselves. */
  public GrpcCallMetrics(MeterRegistry registry, Set<String> keptByTheirCalls) {
    super(registry);
    this.keptByTheirCalls = Set.copyOf(keptByTheirCalls);
    this.clock = registry.config().clock();
  }

  @Override
  public <Q, A> ServerCall.Listener<Q> interceptCall(ServerCall<Q, A> call, Metadata headers,
      ServerCallHandler<Q, A> next) {
    if (keptByTheirCalls.contains(call.getMethodDescriptor().getServiceName())) {
      return next.startCall(call, headers);
    }
    return super.interceptCall(call, headers, next);
  }

  @Override
  protected Function<Status.Code, Timer> newTimerFunction(MethodDescriptor<?, ?> method) {
    Function<Status.Code, Timer> timer = super.newTimerFunction(method);
    timers.put(method, timer);
    return timer;
  }

  /** The meters of {@code method}, for a call that keeps its own (see the class comment). */
  public CallMeters meters(MethodDescriptor<?, ?> method) {
    return meters.computeIfAbsent(method, m -> {
      MetricSet set = metricsFor(m);
      // made with the set, by newTimerFunction, for this very descriptor
      Function<Status.Code, Timer> timer = Objects.requireNonNull(timers.get(m),
          () -> "no timer for " + m.getFullMethodName());
      return new CallMeters(set.getRequestCounter(), set.getResponseCounter(), timer, clock);
    });
  }

  /** One method's meters, as Micrometer's interceptor keeps them for a call. */
  public static final class CallMeters {
    private final Counter received;
    private final Counter sent;
    private final Function<Status.Code, Timer> timers;
    private final Clock clock;

    CallMeters(Counter received, Counter sent, Function<Status.Code, Timer> timers, Clock clock) {
      this.received = received;
      this.sent = sent;
      this.timers = timers;
      this.clock = clock;
    }

    /** Now, on the clock the call's duration is measured with: what {@link #ended} takes as the start. */
    public long start() {
      return clock.monotonicTime();
    }

    /** A message of the call received from the client. */
    public void received() {
      received.increment();
    }

    /** A message of the call sent to the client. */
    public void sent() {
      sent.increment();
    }

    /**
     * The call has ended with {@code code}: its listener's completion with the status it was closed
     * with ({@code UNKNOWN} if none), or {@code CANCELLED} when it was cancelled, as Micrometer counts.
     */
    public void ended(Status.Code code, long started) {
      timers.apply(code).record(clock.monotonicTime() - started, NANOSECONDS);
    }
  }
}
