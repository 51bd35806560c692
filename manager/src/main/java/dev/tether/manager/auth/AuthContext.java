package dev.tether.manager.auth;

import dev.tether.common.handshake.WireText;
import dev.tether.manager.revocation.LiveStream;
import io.grpc.Context;
import io.grpc.Status;

/** The typed {@link Context} keys set by the manager's interceptors, and their accessors. */
public final class AuthContext {

  /**
   * What an authenticated delegate call carries, its transport's facts included. It is in the
   * context only while the service starts the call ({@link DelegateSessionInterceptor}): the
   * service takes then what its stream needs later, and the accessors below answer as for a call
   * that was not authenticated in the stream's later callbacks.
   */
  record Authenticated(LiveStream liveStream, SuccessorSealer sealer, TransportInfo transport) {}

  static final Context.Key<Authenticated> AUTHENTICATED = Context.key("tether-authenticated");
  static final Context.Key<TransportInfo> TRANSPORT = Context.key("tether-transport");

  private AuthContext() {}

  /** The authenticated delegate of the current call; fails if the call was not authenticated. */
  public static DelegateIdentity identity() {
    return authenticated().sealer().identity();
  }

  /** The revocable handle of the current delegate stream. */
  public static LiveStream liveStream() {
    return authenticated().liveStream();
  }

  /** Seals a successor token for the current delegate stream's session. */
  public static SuccessorSealer sealer() {
    return authenticated().sealer();
  }

  private static Authenticated authenticated() {
    Authenticated call = AUTHENTICATED.get();
    if (call == null) {
      throw Status.UNAUTHENTICATED.withDescription(WireText.AUTHENTICATION_FAILED).asRuntimeException();
    }
    return call;
  }

  /** Transport facts of the current call (remote address, the manager's certificate). */
  public static TransportInfo transport() {
    Authenticated call = AUTHENTICATED.get();
    if (call != null) {
      return call.transport();
    }
    TransportInfo info = TRANSPORT.get();
    return info == null ? TransportInfo.UNKNOWN : info;
  }
}
