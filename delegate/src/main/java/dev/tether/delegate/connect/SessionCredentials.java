package dev.tether.delegate.connect;

import dev.tether.common.handshake.HandshakeCrypto;
import dev.tether.common.handshake.SessionMetadata;
import io.grpc.CallCredentials;
import io.grpc.Metadata;
import io.grpc.Status;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Authenticates each call with the handshake session: a fresh, strictly increasing sequence
 * number and a MAC over the session id, that number, the method and the channel binding of the
 * connection that carries the call. A recorded call cannot be replayed, and nothing sent reveals
 * the token or the session key.
 *
 * <p>The session is pinned to the manager certificate its handshake proved: on a connection that
 * presents any other certificate (a relay that let the handshake through, then reset the connection
 * and now terminates TLS itself) the call fails here, before any metadata is written, with
 * {@link #CERTIFICATE_CHANGED}.
 */
public final class SessionCredentials extends CallCredentials {

  /** Why a call was refused locally: the connection does not present the proven certificate. */
  public static final String CERTIFICATE_CHANGED =
      "the manager's certificate on this connection is not the one the handshake proved";

  private final EstablishedSession session;
  private final AtomicLong sequence = new AtomicLong();

  public SessionCredentials(EstablishedSession session) {
    this.session = session;
  }

  @Override
  public void applyRequestMetadata(RequestInfo info, Executor executor, MetadataApplier applier) {
    byte[] binding;
    try {
      binding = HandshakeCrypto.channelBinding(HandshakeClient.peerCertificate(info.getTransportAttrs()));
    } catch (HandshakeException e) {
      applier.fail(Status.UNAUTHENTICATED.withDescription(CERTIFICATE_CHANGED).withCause(e));
      return;
    }
    if (!HandshakeCrypto.equal(binding, session.channelBinding())) {
      applier.fail(Status.UNAUTHENTICATED.withDescription(CERTIFICATE_CHANGED));
      return;
    }
    long seq = sequence.incrementAndGet();
    String method = info.getMethodDescriptor().getFullMethodName();
    Metadata headers = new Metadata();
    headers.put(SessionMetadata.SESSION_ID, SessionMetadata.BASE64URL.encode(session.sessionId()));
    headers.put(SessionMetadata.CALL_SEQ, Long.toUnsignedString(seq));
    headers.put(SessionMetadata.CALL_MAC, SessionMetadata.BASE64URL.encode(
        HandshakeCrypto.callMac(session.sessionKey(), session.sessionId(), seq, method, binding)));
    applier.apply(headers);
  }
}
