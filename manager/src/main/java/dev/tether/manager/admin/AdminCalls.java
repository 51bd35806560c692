package dev.tether.manager.admin;

import io.grpc.ForwardingServerCall;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.Status;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

/**
 * The open admin calls on this replica, by admin public id, so that revoking an admin ends its
 * calls at once (as revoking a token cuts its streams). Each call is wrapped so that the end by
 * revocation and the handler's own responses never interleave: whichever closes first wins, and
 * what the handler sends after that is dropped.
 */
public final class AdminCalls {

  /**
   * The tracked call a handler runs in: an owner revoking itself gets its answer, as the revocation
   * is what it asked for; its other calls are ended.
   */
  static final io.grpc.Context.Key<ServerCall<?, ?>> CURRENT = io.grpc.Context.key("tether-admin-call");

  private final Map<String, Set<Guarded<?, ?>>> open = new ConcurrentHashMap<>();
  /**
   * Admins revoked while this replica ran. A call authenticated just before the revocation
   * committed, and tracked just after its calls were ended, is ended when it is tracked.
   */
  private final Set<String> revoked = ConcurrentHashMap.newKeySet();
  /** Told of every revoked admin: the web console ends its sessions. */
  private final List<Consumer<String>> onRevoked = new CopyOnWriteArrayList<>();

  /**
   * Wraps {@code call} and keeps it until it closes; a call of an admin revoked meanwhile is ended
   * at once (check {@link #isEnded}).
   */
  <Q, R> ServerCall<Q, R> track(String adminId, ServerCall<Q, R> call) {
    Guarded<Q, R> guarded = new Guarded<>(call, adminId);
    open.computeIfAbsent(adminId, k -> ConcurrentHashMap.newKeySet()).add(guarded);
    if (revoked.contains(adminId)) {
      endAll(adminId);
    }
    return guarded;
  }

  /** Whether a tracked call was ended by a revocation. */
  static boolean isEnded(ServerCall<?, ?> call) {
    return call instanceof Guarded<?, ?> g && g.isClosed();
  }

  /** The call ended one way or another (closed, cancelled). */
  void forget(ServerCall<?, ?> call) {
    if (call instanceof Guarded<?, ?> g) {
      open.computeIfPresent(g.adminId, (k, calls) -> {
        calls.remove(g);
        return calls.isEmpty() ? null : calls;
      });
    }
  }

  /**
   * The admin is revoked: ends every open call of the admin with UNAUTHENTICATED, and any call of
   * it tracked later; returns how many were ended.
   */
  public int endAll(String adminId) {
    revoked.add(adminId);
    onRevoked.forEach(listener -> listener.accept(adminId));
    Set<Guarded<?, ?>> calls = open.remove(adminId);
    if (calls == null) {
      return 0;
    }
    int ended = 0;
    ServerCall<?, ?> current = CURRENT.get();
    for (Guarded<?, ?> call : calls) {
      if (call == current) {
        continue;
      }
      if (call.end(Status.UNAUTHENTICATED.withDescription("admin credential revoked"))) {
        ended++;
      }
    }
    return ended;
  }

  /** Calls {@code listener} with the public id of every admin revoked from now on. */
  public void onRevoked(Consumer<String> listener) {
    onRevoked.add(listener);
  }

  /** Admins with calls open here now. */
  public Set<String> adminsWithOpenCalls() {
    return Set.copyOf(open.keySet());
  }

  private final class Guarded<Q, R> extends ForwardingServerCall.SimpleForwardingServerCall<Q, R> {
    private final String adminId;
    private boolean closed;

    Guarded(ServerCall<Q, R> delegate, String adminId) {
      super(delegate);
      this.adminId = adminId;
    }

    @Override
    public synchronized void sendHeaders(Metadata headers) {
      if (!closed) {
        super.sendHeaders(headers);
      }
    }

    @Override
    public synchronized void sendMessage(R message) {
      if (!closed) {
        super.sendMessage(message);
      }
    }

    @Override
    public synchronized void close(Status status, Metadata trailers) {
      if (!closed) {
        closed = true;
        super.close(status, trailers);
      }
      forget(this);
    }

    synchronized boolean isClosed() {
      return closed;
    }

    /** Closes with {@code status} unless closed already; true when this ended it. */
    synchronized boolean end(Status status) {
      if (closed) {
        return false;
      }
      closed = true;
      super.close(status, new Metadata());
      return true;
    }
  }
}
