package dev.tether.manager.admin;

import com.google.common.base.Ticker;
import dev.tether.manager.logging.RefusalReporter;
import dev.tether.manager.store.TetherStore;
import io.grpc.Grpc;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.time.Clock;
import java.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Admits an admin call only with the admin key as {@code authorization: Bearer <key>}. Delegate
 * sessions carry no such key and are refused. Refusals go to a {@link RefusalReporter}: per remote
 * host and reason, the first of a minute is logged and audited at once and the rest as one count,
 * so that a flood without credentials can neither fill the log nor push real events out of the
 * audit trail.
 */
public final class AdminAuthInterceptor implements ServerInterceptor {

  static final Metadata.Key<String> AUTHORIZATION =
      Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);
  /** How long refusals of one host and reason are counted before their count is reported. */
  static final Duration REFUSAL_INTERVAL = Duration.ofSeconds(60);
  /** Hosts and reasons tracked at once; refusals beyond them are counted together. */
  static final int MAX_TRACKED_REFUSALS = 100;
  private static final Logger log = LoggerFactory.getLogger(AdminAuthInterceptor.class);

  private final AdminKey key;
  private final RefusalReporter refusals;

  public AdminAuthInterceptor(AdminKey key, RefusalReporter refusals) {
    this.key = key;
    this.refusals = refusals;
  }

  /**
   * The reporter for refused admin calls: log lines under this class's name, audit rows
   * {@code admin.auth_failed} by {@code unauthenticated}. Its owner calls {@code flush()} from a
   * timer and {@code close()} at shutdown.
   */
  public static RefusalReporter refusalReporter(TetherStore store, Clock clock, Ticker ticker) {
    return new RefusalReporter("admin call refused", log, REFUSAL_INTERVAL, MAX_TRACKED_REFUSALS, ticker,
        refusal -> store.audit(clock.instant(), "unauthenticated", "admin.auth_failed", null, null,
            refusal.describe()));
  }

  @Override
  public <Q, R> ServerCall.Listener<Q> interceptCall(
      ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
    String header = headers.get(AUTHORIZATION);
    String presented = header != null && header.startsWith("Bearer ") ? header.substring(7).strip() : null;
    if (key.matches(presented)) {
      return next.startCall(call, headers);
    }
    refusals.report(host(call.getAttributes().get(Grpc.TRANSPORT_ATTR_REMOTE_ADDR)),
        header == null ? "no admin key" : "wrong admin key",
        "calling " + call.getMethodDescriptor().getFullMethodName());
    call.close(Status.UNAUTHENTICATED.withDescription("admin authentication failed"), new Metadata());
    return new ServerCall.Listener<>() {};
  }

  /** The remote host without its port: every connection of one host counts as one source. */
  private static String host(SocketAddress remote) {
    if (remote instanceof InetSocketAddress inet && inet.getAddress() != null) {
      return inet.getAddress().getHostAddress();
    }
    return String.valueOf(remote);
  }
}
