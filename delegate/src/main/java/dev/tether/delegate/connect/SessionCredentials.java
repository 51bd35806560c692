package dev.tether.delegate.connect;

import dev.tether.common.handshake.HandshakeCrypto;
import dev.tether.common.handshake.SessionMetadata;
import io.grpc.CallCredentials;
import io.grpc.Metadata;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Authenticates each call with the handshake session: a fresh, strictly increasing sequence
 * number and a MAC over the session id, that number and the method. A recorded call cannot be
 * replayed, and nothing sent reveals the token or the session key.
 */
public final class SessionCredentials extends CallCredentials {

  private final EstablishedSession session;
  private final AtomicLong sequence = new AtomicLong();

  public SessionCredentials(EstablishedSession session) {
    this.session = session;
  }

  @Override
  public void applyRequestMetadata(RequestInfo info, Executor executor, MetadataApplier applier) {
    long seq = sequence.incrementAndGet();
    String method = info.getMethodDescriptor().getFullMethodName();
    Metadata headers = new Metadata();
    headers.put(SessionMetadata.SESSION_ID, SessionMetadata.BASE64URL.encode(session.sessionId()));
    headers.put(SessionMetadata.CALL_SEQ, Long.toString(seq));
    headers.put(SessionMetadata.CALL_MAC, SessionMetadata.BASE64URL.encode(
        HandshakeCrypto.callMac(session.sessionKey(), session.sessionId(), seq, method)));
    applier.apply(headers);
  }
}
