package dev.tether.delegate.connect;

import dev.tether.common.handshake.HandshakeCrypto;
import dev.tether.common.handshake.SessionMetadata;
import io.grpc.CallCredentials;
import io.grpc.Metadata;
import java.util.concurrent.Executor;

/**
 * Call credentials of a delegate that does not follow section 5.1 of the protocol: it skips the
 * certificate pin and sends the session metadata on whatever connection carries the call, with a
 * MAC over a channel binding of the test's choosing and any sequence number. Lives in the delegate's
 * package to reach the session's key; tests only.
 */
public final class ForgedCredentials extends CallCredentials {

  /** Which channel binding the forged MAC covers. */
  public enum Binding {
    /** The binding of the connection that carries the call, as the MAC formula says (no pin check). */
    OF_THIS_CONNECTION,
    /** The binding the handshake proved, as version 1 delegates computed no binding at all. */
    OF_THE_HANDSHAKE
  }

  private final EstablishedSession session;
  private final Binding binding;
  private final long sequence;
  private final String sequenceText;

  public ForgedCredentials(EstablishedSession session, Binding binding, long sequence) {
    this(session, binding, sequence, Long.toUnsignedString(sequence));
  }

  /** With {@code sequenceText} sent for {@code sequence} (a sign, leading zeros...). */
  public ForgedCredentials(EstablishedSession session, Binding binding, long sequence, String sequenceText) {
    this.session = session;
    this.binding = binding;
    this.sequence = sequence;
    this.sequenceText = sequenceText;
  }

  @Override
  public void applyRequestMetadata(RequestInfo info, Executor executor, MetadataApplier applier) {
    byte[] cb;
    try {
      cb = binding == Binding.OF_THE_HANDSHAKE
          ? session.channelBinding()
          : HandshakeCrypto.channelBinding(HandshakeClient.peerCertificate(info.getTransportAttrs()));
    } catch (HandshakeException e) {
      throw new IllegalStateException(e);
    }
    Metadata headers = new Metadata();
    headers.put(SessionMetadata.SESSION_ID, SessionMetadata.BASE64URL.encode(session.sessionId()));
    headers.put(SessionMetadata.CALL_SEQ, sequenceText);
    headers.put(SessionMetadata.CALL_MAC, SessionMetadata.BASE64URL.encode(HandshakeCrypto.callMac(
        session.sessionKey(), session.sessionId(), sequence, info.getMethodDescriptor().getFullMethodName(), cb)));
    applier.apply(headers);
  }
}
