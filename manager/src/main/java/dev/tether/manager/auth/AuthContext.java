package dev.tether.manager.auth;

import dev.tether.common.handshake.WireText;
import dev.tether.manager.revocation.LiveStream;
import io.grpc.Context;
import io.grpc.Status;

/** The typed {@link Context} keys set by the manager's interceptors, and their accessors. */
public final class AuthContext {

  static final Context.Key<DelegateIdentity> IDENTITY = Context.key("tether-delegate-identity");
  static final Context.Key<LiveStream> LIVE_STREAM = Context.key("tether-live-stream");
  static final Context.Key<TransportInfo> TRANSPORT = Context.key("tether-transport");
  static final Context.Key<SuccessorSealer> SEALER = Context.key("tether-successor-sealer");

  private AuthContext() {}

  /** The authenticated delegate of the current call; fails if the call was not authenticated. */
  public static DelegateIdentity identity() {
    DelegateIdentity identity = IDENTITY.get();
    if (identity == null) {
      throw Status.UNAUTHENTICATED.withDescription(WireText.AUTHENTICATION_FAILED).asRuntimeException();
    }
    return identity;
  }

  /** The revocable handle of the current delegate stream. */
  public static LiveStream liveStream() {
    LiveStream stream = LIVE_STREAM.get();
    if (stream == null) {
      throw Status.UNAUTHENTICATED.withDescription(WireText.AUTHENTICATION_FAILED).asRuntimeException();
    }
    return stream;
  }

  /** Seals a successor token for the current delegate stream's session. */
  public static SuccessorSealer sealer() {
    SuccessorSealer sealer = SEALER.get();
    if (sealer == null) {
      throw Status.UNAUTHENTICATED.withDescription(WireText.AUTHENTICATION_FAILED).asRuntimeException();
    }
    return sealer;
  }

  /** Transport facts of the current call (remote address, the manager's certificate). */
  public static TransportInfo transport() {
    TransportInfo info = TRANSPORT.get();
    return info == null ? TransportInfo.UNKNOWN : info;
  }
}
