package dev.tether.manager.auth;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.common.base.Ticker;
import dev.tether.common.handshake.HandshakeCrypto;
import dev.tether.common.handshake.SessionMetadata;
import dev.tether.manager.logging.RefusalReporter;
import dev.tether.manager.revocation.RevocationRegistry;
import dev.tether.manager.testing.IdleServerCall;
import dev.tether.proto.delegate.v1.DelegateStreamGrpc;
import io.grpc.Attributes;
import io.grpc.Grpc;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/**
 * An attacker who has the session id of a live stream (not its key) presents it from its own
 * connection: refused, and the refusal is logged with the precise reason and the token's public id
 * (the product's security rule 5), not as an unknown session among random scans. Found by the
 * review of a change that forgot a session once its stream claimed it (4d00516, reverted in that part).
 */
class ClaimedSessionRefusalTest {

  private final List<RefusalReporter.Refusal> refusals = new CopyOnWriteArrayList<>();
  private final SessionRegistry sessions = new SessionRegistry(Ticker.systemTicker(), Duration.ofMinutes(1), 48);
  private final DelegateSessionInterceptor interceptor = new DelegateSessionInterceptor(sessions,
      new RevocationRegistry(), new RefusalReporter("delegate call", LoggerFactory.getLogger(getClass()),
          Duration.ofMinutes(1), 100, Ticker.systemTicker(), refusals::add), new TransportInterceptor());
  private final byte[] key = HandshakeCrypto.randomBytes(32);
  /** The delegate's connection, its handshake's and its stream's (its transport's attributes). */
  private final Attributes delegateConnection = connection("10.0.0.1");
  private final Session session = sessions.create(key,
      new DelegateIdentity("acct", 1, "tid_aaaaaaaaaaaaaaaa", "default", "d"), delegateConnection, "127.0.0.1");

  @Test
  void aLiveStreamsSessionPresentedFromAnotherConnection_isLoggedWithItsToken() {
    interceptor.interceptCall(call(delegateConnection), headers(1, HandshakeCrypto.callMac(key, session.sessionId(), 1,
        DelegateStreamGrpc.getConnectMethod().getFullMethodName(), HandshakeCrypto.channelBinding(null))),
        (c, h) -> new ServerCall.Listener<Object>() {});
    assertThat(refusals).isEmpty();

    // the attacker has the session id (not the key) and calls from its own connection
    interceptor.interceptCall(call(connection("203.0.113.9")), headers(2, new byte[32]),
        (c, h) -> new ServerCall.Listener<Object>() {});

    assertThat(refusals).hasSize(1);
    assertThat(refusals.get(0).detail()).as("the refusal names the token whose session was presented")
        .contains("tid_aaaaaaaaaaaaaaaa");
  }

  private static Attributes connection(String host) {
    return Attributes.newBuilder().set(Grpc.TRANSPORT_ATTR_REMOTE_ADDR, new InetSocketAddress(host, 40000)).build();
  }

  private static IdleServerCall call(Attributes connection) {
    return new IdleServerCall(connection, DelegateStreamGrpc.getConnectMethod());
  }

  private Metadata headers(long sequence, byte[] mac) {
    Metadata headers = new Metadata();
    headers.put(SessionMetadata.SESSION_ID, session.id());
    headers.put(SessionMetadata.CALL_SEQ, Long.toString(sequence));
    headers.put(SessionMetadata.CALL_MAC, SessionMetadata.BASE64URL.encode(mac));
    return headers;
  }
}
