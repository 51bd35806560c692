package dev.tether.manager.admin;

import com.google.common.base.Ticker;
import dev.tether.manager.logging.RefusalReporter;
import dev.tether.manager.store.Actor;
import dev.tether.manager.store.AdminRole;
import dev.tether.manager.store.StoreException;
import dev.tether.manager.store.TetherStore;
import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.ForwardingServerCallListener;
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
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Admits an admin call only with the credential of an active admin whose role the method needs
 * ({@link Permissions}), presented as {@code authorization: Bearer tak_...}. The admin and the
 * remote address go into the call's context ({@link Caller}) for the audit trail, and the call is
 * tracked ({@link AdminCalls}) so that revoking the admin ends it.
 *
 * <p>Calls without a valid credential go to a {@link RefusalReporter}: per remote host and reason,
 * the first of a minute is logged and audited at once and the rest as one count, so that a flood
 * can neither fill the log nor push real events out of the audit trail. An authenticated admin
 * refused for its role gets PERMISSION_DENIED naming the role needed, and every such refusal is
 * audited with the admin's name.
 */
public final class AdminAuthInterceptor implements ServerInterceptor {

  static final Metadata.Key<String> AUTHORIZATION =
      Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);
  /** How long refusals of one host and reason are counted before their count is reported. */
  static final Duration REFUSAL_INTERVAL = Duration.ofSeconds(60);
  /** Hosts and reasons tracked at once; refusals beyond them are counted together. */
  static final int MAX_TRACKED_REFUSALS = 100;
  private static final Logger log = LoggerFactory.getLogger(AdminAuthInterceptor.class);

  private final Authenticator authenticator;
  private final AdminCalls calls;
  private final TetherStore store;
  private final Clock clock;
  private final RefusalReporter refusals;
  private final RefusalReporter denials;

  public AdminAuthInterceptor(AdminDirectory admins, AdminCalls calls, TetherStore store, Clock clock,
      RefusalReporter refusals, RefusalReporter denials) {
    this(bearer(admins), calls, store, clock, refusals, denials);
  }

  /** Admits the calls of the admins {@code authenticator} finds (the web console's, by session). */
  public AdminAuthInterceptor(Authenticator authenticator, AdminCalls calls, TetherStore store, Clock clock,
      RefusalReporter refusals, RefusalReporter denials) {
    this.authenticator = authenticator;
    this.calls = calls;
    this.store = store;
    this.clock = clock;
    this.refusals = refusals;
    this.denials = denials;
  }

  /**
   * The reporter for unauthenticated admin calls: log lines under this class's name, audit rows
   * {@code admin.auth_failed} by {@code unauthenticated}. Its owner calls {@code flush()} from a
   * timer and {@code close()} at shutdown.
   */
  public static RefusalReporter refusalReporter(TetherStore store, Clock clock, Ticker ticker) {
    return new RefusalReporter("admin call refused", log, REFUSAL_INTERVAL, MAX_TRACKED_REFUSALS, ticker,
        refusal -> store.audit(clock.instant(), new Actor("unauthenticated", refusal.source()), "admin.auth_failed",
            null, null, refusal.describe()));
  }

  /**
   * The reporter for calls refused for the admin's role: per admin and method, log lines "admin call
   * denied" and audit rows {@code admin.permission_denied} by that admin, from where the call came.
   */
  public static RefusalReporter denialReporter(TetherStore store, Clock clock, Ticker ticker) {
    return new RefusalReporter("admin call denied", log, REFUSAL_INTERVAL, MAX_TRACKED_REFUSALS, ticker,
        refusal -> store.audit(clock.instant(), new Actor(refusal.source(), refusal.address()),
            "admin.permission_denied", null, null, refusal.more() == 0 ? refusal.reason() : refusal.describe()));
  }

  @Override
  public <Q, R> ServerCall.Listener<Q> interceptCall(
      ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
    String method = call.getMethodDescriptor().getFullMethodName();
    SocketAddress remote = call.getAttributes().get(Grpc.TRANSPORT_ATTR_REMOTE_ADDR);
    Optional<Caller> found;
    try {
      found = authenticator.authenticate(headers, remote);
    } catch (StoreException e) {
      return refuse(call, Status.UNAVAILABLE.withDescription("manager storage unavailable, retry later"));
    }
    if (found.isEmpty()) {
      refusals.report(host(remote), authenticator.refusal(headers), "calling " + method);
      return refuse(call, Status.UNAUTHENTICATED.withDescription(authenticator.failure()));
    }
    Caller caller = found.get();
    Optional<AdminRole> needed = Permissions.needed(method);
    if (needed.isEmpty() || !caller.admin().role().includes(needed.get())) {
      String need = needed.map(AdminRole::label).orElse("a role no admin has");
      String description = "admin '" + caller.admin().name() + "' has role " + caller.admin().role().label() + "; "
          + shortName(method) + " needs role " + need + (needed.isPresent() && needed.get() != AdminRole.OWNER
              ? " or higher" : "");
      // per admin and method: the first of a minute logged and audited at once, the rest counted, so
      // that a low-privilege credential cannot flood the log or push real events out of the audit trail
      denials.report(caller.admin().name(), "method=" + shortName(method) + " role=" + caller.admin().role().label()
          + " needed=" + need, null, caller.remoteAddress());
      return refuse(call, Status.PERMISSION_DENIED.withDescription(description));
    }
    ServerCall<Q, R> tracked = calls.track(caller.admin().publicId(), call);
    if (AdminCalls.isEnded(tracked)) {
      return new ServerCall.Listener<>() {};
    }
    Context context = Context.current().withValue(Caller.KEY, caller).withValue(AdminCalls.CURRENT, tracked);
    ServerCall.Listener<Q> listener = Contexts.interceptCall(context, tracked, headers, next);
    return new ForwardingServerCallListener.SimpleForwardingServerCallListener<>(listener) {
      @Override
      public void onCancel() {
        calls.forget(tracked);
        super.onCancel();
      }

      @Override
      public void onComplete() {
        calls.forget(tracked);
        super.onComplete();
      }
    };
  }

  /** Finds the active admin a call is made by. */
  public interface Authenticator {
    /** The caller; empty when the call carries no credential of an active admin. */
    Optional<Caller> authenticate(Metadata headers, SocketAddress remote);

    /** Why a call was refused, for the log and the audit trail ("no admin credential"). */
    String refusal(Metadata headers);

    /** What the refused caller is told. */
    String failure();
  }

  /** The admin API's: {@code authorization: Bearer tak_...}, an active admin's credential. */
  static Authenticator bearer(AdminDirectory admins) {
    return new Authenticator() {
      @Override
      public Optional<Caller> authenticate(Metadata headers, SocketAddress remote) {
        return admins.authenticate(presented(headers)).map(admin -> new Caller(admin, address(remote)));
      }

      @Override
      public String refusal(Metadata headers) {
        return headers.get(AUTHORIZATION) == null ? "no admin credential" : "unknown or revoked admin credential";
      }

      @Override
      public String failure() {
        return "admin authentication failed: the credential is missing, unknown or revoked";
      }
    };
  }

  private static String presented(Metadata headers) {
    String header = headers.get(AUTHORIZATION);
    return header != null && header.startsWith("Bearer ") ? header.substring(7).strip() : null;
  }

  private static <Q, R> ServerCall.Listener<Q> refuse(ServerCall<Q, R> call, Status status) {
    call.close(status, new Metadata());
    return new ServerCall.Listener<>() {};
  }

  /** {@code tether.admin.v1.TokenAdmin/RevokeToken} as {@code TokenAdmin/RevokeToken}. */
  static String shortName(String fullMethodName) {
    int dot = fullMethodName.lastIndexOf('.', fullMethodName.indexOf('/'));
    return dot < 0 ? fullMethodName : fullMethodName.substring(dot + 1);
  }

  /** The remote host without its port: every connection of one host counts as one source. */
  private static String host(SocketAddress remote) {
    if (remote instanceof InetSocketAddress inet && inet.getAddress() != null) {
      return inet.getAddress().getHostAddress();
    }
    return String.valueOf(remote);
  }

  /** HOST:PORT of the caller, for the audit trail; null in-process. */
  public static String address(SocketAddress remote) {
    if (remote instanceof InetSocketAddress inet && inet.getAddress() != null) {
      String host = inet.getAddress().getHostAddress();
      return (host.contains(":") ? "[" + host + "]" : host) + ":" + inet.getPort();
    }
    return remote == null ? null : remote.toString();
  }
}
