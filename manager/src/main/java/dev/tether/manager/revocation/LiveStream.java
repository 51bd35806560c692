package dev.tether.manager.revocation;

import dev.tether.manager.metrics.GrpcCallMetrics.CallMeters;
import io.grpc.ForwardingServerCall.SimpleForwardingServerCall;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.Status;
import java.util.function.Consumer;

/**
 * An authenticated delegate call that can be cut from another thread. Sending and closing are
 * serialized on this object, so that a revocation and a heartbeat acknowledgement never interleave:
 * once the token is fenced, {@link #acceptIfLive} refuses, and {@link #close} wins.
 */
public final class LiveStream extends SimpleForwardingServerCall<Object, Object> {

  private final TokenFence fence;
  /**
   * Who the call is from, named by its {@code toString} only when the stream is (the delegate's
   * identity): no text or function of its own for every open stream.
   */
  private final Object subject;
  /**
   * What runs when the call is over, in the order added; guarded by this, dropped once run. A
   * registered stream has one (the tracker's, one for all the streams, which finds the stream's
   * state as its {@link #trackerEntry}), kept in the first field rather than in a function made for
   * it; a second and later ones are composed into the second field.
   */
  private Consumer<LiveStream> endListener;
  private Consumer<LiveStream> laterEndListeners;
  private boolean closed;
  /** The call is over (completed or cancelled): what still runs for it must not act on it. */
  private boolean over;
  /** Its registration was refused because the token was fenced (a revoke or an expiry committing). */
  private boolean registrationFenced;
  /** The call's headers were sent (guarded by this). */
  private boolean headersSent;
  private volatile Status closeStatus;
  /**
   * What the delegate tracker keeps for this stream once its delegate registered (null before):
   * kept here rather than in a map of the tracker's own, one entry less for every connected
   * delegate. Only the tracker sets or clears it; rotations and the write-behind find the
   * registered streams by it (the stream's own state is the entry).
   */
  private volatile Object trackerEntry;
  /**
   * The call's gRPC meters (null: not metered here), which this object and the listener in front
   * of it keep in place of Micrometer's wrappers (see {@link dev.tether.manager.metrics.GrpcCallMetrics}),
   * and when the call started, on their clock.
   */
  private final CallMeters meters;
  private final long started;

  @SuppressWarnings("unchecked")
  LiveStream(ServerCall<?, ?> call, TokenFence fence, Object subject, CallMeters meters, long started) {
    super((ServerCall<Object, Object>) call);
    this.fence = fence;
    this.subject = subject;
    this.meters = meters;
    this.started = started;
  }

  /**
   * Runs {@code action} (which may send on this call) only while the stream is open, the call not
   * over and its token not fenced; returns whether it ran. The heartbeat path uses this, so no
   * heartbeat is accepted after a revocation has begun to commit; a registration whose commit
   * ends after the delegate went away uses it to find that out.
   */
  public synchronized boolean acceptIfLive(Runnable action) {
    if (closed || over || fence.revoked()) {
      return false;
    }
    action.run();
    return true;
  }

  /**
   * Like {@link #acceptIfLive}, for a registration whose row is committed. One refused only because
   * the token is fenced is held open: the revoke that raised the fence closes it with the token's
   * other streams (counted, with the token's state), and one that fails to commit closes it when it
   * lowers the fence ({@link #closeIfRegistrationFenced}), so that the delegate retries.
   */
  public synchronized boolean acceptRegistration(Runnable action) {
    if (!closed && !over && fence.revoked()) {
      registrationFenced = true;
      return false;
    }
    return acceptIfLive(action);
  }

  /**
   * Marks the call as refused by the fence if its token is fenced now (a revoke committing), as
   * {@link #acceptRegistration} does.
   */
  synchronized void holdIfFenced() {
    if (!closed && fence.revoked()) {
      registrationFenced = true;
    }
  }

  /** Closes the call with {@code status} if a fence refused its registration; returns whether it did. */
  synchronized boolean closeIfRegistrationFenced(Status status) {
    return registrationFenced && closeWith(status);
  }

  /** Like {@link #acceptIfLive}, and counts an accepted heartbeat for the token. */
  public synchronized boolean acceptHeartbeat(Runnable action) {
    boolean accepted = acceptIfLive(action);
    if (accepted) {
      fence.heartbeatAccepted();
    }
    return accepted;
  }

  /** Returns once no acceptance is running on this stream (a memory and ordering barrier). */
  synchronized void awaitIdle() {
    // entering the monitor is the point: any acceptIfLive in progress has finished
  }

  /** Closes the call with {@code status} unless it is already closed; returns whether it did. */
  public boolean closeWith(Status status) {
    return closeWith(status, new Metadata());
  }

  /** Closes the call with {@code status} and {@code trailers} unless it is already closed; returns whether it did. */
  public synchronized boolean closeWith(Status status, Metadata trailers) {
    if (closed) {
      return false;
    }
    closed = true;
    closeStatus = status;
    super.close(status, trailers);
    return true;
  }

  /**
   * Sends {@code message} unless the call is closed or cancelled (dropped, as gRPC's stub drops a
   * send after a cancel); the call's headers go first, with its first message (as the stub sends
   * them), unless they were sent before.
   */
  @Override
  public synchronized void sendMessage(Object message) {
    if (!closed && !super.isCancelled()) {
      if (!headersSent) {
        headersSent = true;
        super.sendHeaders(new Metadata());
      }
      if (meters != null) {
        meters.sent();
      }
      super.sendMessage(message);
    }
  }

  /** A message of the call arrived from the delegate (for the call's meters). */
  public void received() {
    if (meters != null) {
      meters.received();
    }
  }

  /**
   * The call's listener has been told it is over: {@code cancelled}, or completed after the status
   * this object closed it with. Records the call's duration under that status, as Micrometer's
   * interceptor does ({@code UNKNOWN} for a call completed without a close seen here).
   */
  public void over(boolean cancelled) {
    if (meters != null) {
      Status status = closeStatus;
      meters.ended(cancelled ? Status.Code.CANCELLED : status == null ? Status.Code.UNKNOWN : status.getCode(),
          started);
    }
  }

  @Override
  public synchronized void sendHeaders(Metadata headers) {
    if (!closed) {
      headersSent = true;
      super.sendHeaders(headers);
    }
  }

  @Override
  public synchronized void close(Status status, Metadata trailers) {
    if (closed) {
      return;
    }
    closed = true;
    closeStatus = status;
    super.close(status, trailers);
  }

  public TokenFence fence() {
    return fence;
  }

  /** Status this manager closed the call with, or null if it ended otherwise. */
  public Status closeStatus() {
    return closeStatus;
  }

  /** The delegate tracker's entry for this stream; null until it is set. */
  public Object trackerEntry() {
    return trackerEntry;
  }

  /** Sets the delegate tracker's entry. */
  public synchronized void trackerEntry(Object entry) {
    trackerEntry = entry;
  }

  /** Clears the tracker's entry if it is {@code entry}; returns whether it did. */
  public synchronized boolean clearTrackerEntry(Object entry) {
    if (trackerEntry != entry) {
      return false;
    }
    trackerEntry = null;
    return true;
  }

  /**
   * Calls {@code listener} once when the call is over, whoever ended it; at once if it is over
   * already (a registration may finish on another thread after the delegate went away).
   */
  public void onEnd(Consumer<LiveStream> listener) {
    synchronized (this) {
      if (!over) {
        if (endListener == null) {
          endListener = listener;
        } else {
          laterEndListeners = laterEndListeners == null ? listener : laterEndListeners.andThen(listener);
        }
        return;
      }
    }
    listener.accept(this);
  }

  void ended() {
    Consumer<LiveStream> first;
    Consumer<LiveStream> later;
    synchronized (this) {
      over = true;
      first = endListener;
      later = laterEndListeners;
      endListener = null;
      laterEndListeners = null;
    }
    if (first != null) {
      first.accept(this);
    }
    if (later != null) {
      later.accept(this);
    }
  }

  @Override
  public String toString() {
    return "LiveStream[" + subject + "]";
  }
}
