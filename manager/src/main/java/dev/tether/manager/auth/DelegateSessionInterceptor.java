package dev.tether.manager.auth;

import dev.tether.common.handshake.WireText;
import dev.tether.common.handshake.HandshakeCrypto;
import dev.tether.common.handshake.SessionMetadata;
import dev.tether.manager.logging.RefusalReporter;
import dev.tether.manager.metrics.GrpcCallMetrics;
import dev.tether.manager.metrics.GrpcCallMetrics.CallMeters;
import dev.tether.manager.revocation.LiveStream;
import dev.tether.manager.revocation.RevocationRegistry;
import io.grpc.Context;
import io.grpc.ForwardingServerCallListener.SimpleForwardingServerCallListener;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;

/**
 * Authenticates every delegate call with its handshake session (session id, a strictly increasing
 * sequence number and a MAC over both, the method and the channel binding of the call's own
 * connection), checks that the call arrives on the connection the handshake was made on and that
 * the session carries no other stream, registers the call with the {@link RevocationRegistry}, and
 * puts the {@link DelegateIdentity} into the {@link Context}. Every refusal is the same generic
 * UNAUTHENTICATED on the wire; the log says why.
 */
public final class DelegateSessionInterceptor implements ServerInterceptor {

  static final Status FAILED = Status.UNAUTHENTICATED.withDescription(WireText.AUTHENTICATION_FAILED);

  /** Decimal, no sign, no leading zero (docs/protocol.md 5): one text per number, so none can be replayed as another. */
  private static final java.util.regex.Pattern CANONICAL_SEQUENCE = java.util.regex.Pattern.compile("[1-9][0-9]{0,19}");

  private final SessionRegistry sessions;
  private final RevocationRegistry registry;
  private final RefusalReporter refusals;
  private final TransportInterceptor transports;
  private final GrpcCallMetrics callMetrics;

  /** Reads each call's transport facts with {@code transports} (see {@link TransportInterceptor#of}); no gRPC meters. */
  public DelegateSessionInterceptor(SessionRegistry sessions, RevocationRegistry registry, RefusalReporter refusals,
      TransportInterceptor transports) {
    this(sessions, registry, refusals, transports, null);
  }

  /**
   * Like {@link #DelegateSessionInterceptor(SessionRegistry, RevocationRegistry, RefusalReporter,
   * TransportInterceptor)}, keeping each call's gRPC meters of {@code callMetrics} (null: none),
   * which leaves these calls to it: refused calls and streams alike are counted and timed.
   */
  public DelegateSessionInterceptor(SessionRegistry sessions, RevocationRegistry registry, RefusalReporter refusals,
      TransportInterceptor transports, GrpcCallMetrics callMetrics) {
    this.callMetrics = callMetrics;
    this.transports = transports;
    this.refusals = refusals;
    this.sessions = sessions;
    this.registry = registry;
  }

  @Override
  @SuppressWarnings("unchecked")
  public <Q, R> ServerCall.Listener<Q> interceptCall(
      ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
    CallMeters meters = callMetrics == null ? null : callMetrics.meters(call.getMethodDescriptor());
    long started = meters == null ? 0 : meters.start();
    TransportInfo transport = transports.of(call);
    String sessionText = headers.get(SessionMetadata.SESSION_ID);
    String seqText = headers.get(SessionMetadata.CALL_SEQ);
    String macText = headers.get(SessionMetadata.CALL_MAC);
    if (sessionText == null || seqText == null || macText == null) {
      return refuse(call, meters, started, transport, "call without session metadata", null);
    }
    Session session = sessions.find(sessionText);
    if (session == null) {
      return refuse(call, meters, started, transport, "unknown or expired session", null);
    }
    DelegateIdentity identity = session.identity();
    long sequence;
    byte[] mac;
    try {
      if (!CANONICAL_SEQUENCE.matcher(seqText).matches()) {
        throw new NumberFormatException("not canonical");
      }
      sequence = Long.parseUnsignedLong(seqText);
      mac = SessionMetadata.BASE64URL.decode(macText);
    } catch (IllegalArgumentException e) {
      return refuse(call, meters, started, transport, "malformed session metadata", "token " + identity.tokenPublicId());
    }
    String method = call.getMethodDescriptor().getFullMethodName();
    // the MAC covers the certificate this manager presents on the connection carrying the call: a
    // delegate that sees another certificate (a relay terminating TLS) computes a different MAC
    byte[] binding = transport.channelBinding();
    byte[] expected = HandshakeCrypto.callMac(session.key(), session.sessionId(), sequence, method, binding);
    if (!HandshakeCrypto.equal(expected, mac)) {
      return refuse(call, meters, started, transport, "bad call MAC (wrong key, or a connection that presents another certificate)",
          "token " + identity.tokenPublicId());
    }
    if (!session.provedOn(transport.connection())) {
      return refuse(call, meters, started, transport, "session used on another connection than its handshake's",
          "token " + identity.tokenPublicId());
    }
    if (!session.advanceTo(sequence)) {
      return refuse(call, meters, started, transport, "replayed call", "sequence " + Long.toUnsignedString(sequence) + ", token "
          + identity.tokenPublicId());
    }
    if (!sessions.claim(session, transport.connection())) {
      return refuse(call, meters, started, transport, "second stream on one session", "token " + identity.tokenPublicId());
    }
    if (registry.isFenced(identity.tokenRow())) {
      sessions.ended(session);
      return refuse(call, meters, started, transport, "call with a revoked token", "token " + identity.tokenPublicId());
    }
    LiveStream live = registry.register(call, identity.tokenRow(), identity.tokenPublicId(),
        identity.tokenExpiresAt(), identity, meters, started);
    ServerCall<Q, R> guarded = (ServerCall<Q, R>) (ServerCall<?, ?>) live;
    // The service reads the authenticated call from the context when it starts the call, and takes
    // there all that its stream needs later (DelegateStreamService's Connection): the context is
    // attached for the start only, not around every later message of the stream, which would keep a
    // context, its map and a listener wrapper for every connected delegate.
    Context authenticated = Context.current().withValue(AuthContext.AUTHENTICATED,
        new AuthContext.Authenticated(live, session, transport));
    Context previous = authenticated.attach();
    ServerCall.Listener<Q> listener;
    try {
      listener = next.startCall(guarded, headers);
    } catch (RuntimeException | Error e) {
      // no listener will end the session or the revocable call: do it here (gRPC closes the call)
      sessions.ended(session);
      registry.unregister(live);
      throw e;
    } finally {
      authenticated.detach(previous);
    }
    return new SimpleForwardingServerCallListener<>(listener) {
      private boolean done;

      private void end() {
        if (!done) {
          done = true;
          sessions.ended(session);
          registry.unregister(live);
        }
      }

      @Override
      public void onMessage(Q message) {
        live.received();
        super.onMessage(message);
      }

      @Override
      public void onComplete() {
        try {
          live.over(false);
          super.onComplete();
        } finally {
          end();
        }
      }

      @Override
      public void onCancel() {
        try {
          live.over(true);
          super.onCancel();
        } finally {
          end();
        }
      }
    };
  }

  private <Q, R> ServerCall.Listener<Q> refuse(ServerCall<Q, R> call, CallMeters meters, long started,
      TransportInfo transport, String reason, String detail) {
    refusals.report(transport.remoteHost(), reason, (detail == null ? "" : detail + " ") + "from "
        + transport.remoteAddress() + " on " + call.getMethodDescriptor().getFullMethodName());
    call.close(FAILED, new Metadata());
    if (meters == null) {
      return new ServerCall.Listener<>() {};
    }
    // timed as Micrometer times a call: until its listener is told it is over
    return new ServerCall.Listener<>() {
      @Override
      public void onMessage(Q message) {
        meters.received();
      }

      @Override
      public void onComplete() {
        meters.ended(FAILED.getCode(), started);
      }

      @Override
      public void onCancel() {
        meters.ended(Status.Code.CANCELLED, started);
      }
    };
  }
}
