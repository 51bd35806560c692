package dev.tether.manager.admin;

import dev.tether.manager.store.StoreException;
import dev.tether.manager.store.TetherStore;
import io.grpc.Grpc;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import java.time.Clock;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Admits an admin call only with the admin key as {@code authorization: Bearer <key>}. Delegate
 * sessions carry no such key and are refused. Failures are logged and audited (at most
 * {@value #AUDITS_PER_SECOND} audit rows a second, so that a flood cannot fill the database).
 */
public final class AdminAuthInterceptor implements ServerInterceptor {

  static final Metadata.Key<String> AUTHORIZATION =
      Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);
  static final int AUDITS_PER_SECOND = 20;
  private static final Logger log = LoggerFactory.getLogger(AdminAuthInterceptor.class);

  private final AdminKey key;
  private final TetherStore store;
  private final Clock clock;
  private final AtomicLong auditSecond = new AtomicLong();
  private final AtomicLong auditsThisSecond = new AtomicLong();

  public AdminAuthInterceptor(AdminKey key, TetherStore store, Clock clock) {
    this.key = key;
    this.store = store;
    this.clock = clock;
  }

  @Override
  public <Q, R> ServerCall.Listener<Q> interceptCall(
      ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
    String header = headers.get(AUTHORIZATION);
    String presented = header != null && header.startsWith("Bearer ") ? header.substring(7).strip() : null;
    if (key.matches(presented)) {
      return next.startCall(call, headers);
    }
    String remote = String.valueOf(call.getAttributes().get(Grpc.TRANSPORT_ATTR_REMOTE_ADDR));
    String method = call.getMethodDescriptor().getFullMethodName();
    String why = header == null ? "no admin key" : "wrong admin key";
    log.warn("admin call refused: {} for {} from {}", why, method, remote);
    auditFailure(why + " for " + method + " from " + remote);
    call.close(Status.UNAUTHENTICATED.withDescription("admin authentication failed"), new Metadata());
    return new ServerCall.Listener<>() {};
  }

  private void auditFailure(String detail) {
    long second = clock.millis() / 1000;
    if (auditSecond.getAndSet(second) != second) {
      auditsThisSecond.set(0);
    }
    if (auditsThisSecond.incrementAndGet() > AUDITS_PER_SECOND) {
      return;
    }
    try {
      store.audit(clock.instant(), "unauthenticated", "admin.auth_failed", null, null, detail);
    } catch (StoreException e) {
      log.warn("could not audit admin authentication failure: {}", e.getMessage());
    }
  }
}
