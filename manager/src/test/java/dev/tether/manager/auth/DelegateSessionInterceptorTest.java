package dev.tether.manager.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

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
import io.grpc.ServerCallHandler;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/**
 * What a delegate stream's authentication leaves behind once the call has started: the stream
 * holds the session and its revocable call until it ends (and nothing when its start fails), and
 * the authenticated context is there while the service starts the call, not in its later callbacks.
 */
class DelegateSessionInterceptorTest {

  /** The connection the session's handshake came on (its transport's attributes, see TransportInfo). */
  private static final Attributes CONNECTION = Attributes.newBuilder()
      .set(Grpc.TRANSPORT_ATTR_REMOTE_ADDR, new InetSocketAddress("127.0.0.1", 40000))
      .build();

  private final java.util.List<RefusalReporter.Refusal> refusals = new java.util.concurrent.CopyOnWriteArrayList<>();
  private final SessionRegistry sessions = new SessionRegistry(Ticker.systemTicker(), Duration.ofMinutes(1), 48);
  private final RevocationRegistry registry = new RevocationRegistry();
  private final DelegateSessionInterceptor interceptor = new DelegateSessionInterceptor(sessions, registry,
      new RefusalReporter("delegate call", LoggerFactory.getLogger(DelegateSessionInterceptorTest.class),
          Duration.ofMinutes(1), 100, Ticker.systemTicker(), refusals::add),
      new TransportInterceptor());
  private final byte[] key = HandshakeCrypto.randomBytes(32);
  private final Session session = sessions.create(key,
      new DelegateIdentity("acct", 1, "tid_aaaaaaaaaaaaaaaa", "default", "d"), CONNECTION, "127.0.0.1");

  @Test
  void aStartedStreamHoldsItsSessionAndRevocableCallUntilItEnds_andItsContextOnlyWhileItStarts() {
    AtomicReference<DelegateIdentity> atStart = new AtomicReference<>();
    AtomicReference<Object> later = new AtomicReference<>("not called");
    ServerCall.Listener<Object> listener = interceptor.interceptCall(call(), signed(1), (call, headers) -> {
      atStart.set(AuthContext.identity());
      return new ServerCall.Listener<>() {
        @Override
        public void onMessage(Object message) {
          later.set(AuthContext.AUTHENTICATED.get());
        }
      };
    });

    assertThat(atStart.get().tokenPublicId()).isEqualTo("tid_aaaaaaaaaaaaaaaa");
    listener.onMessage(new Object());
    assertThat(later.get()).as("the authenticated context in a later callback").isNull();
    assertThat(sessions.find(session.id())).isSameAs(session);
    assertThat(registry.liveCount()).isEqualTo(1);

    listener.onCancel();
    assertThat(sessions.find(session.id())).isNull();
    assertThat(registry.liveCount()).isZero();
  }

  @Test
  void aSecondCallOnAClaimedSession_isRefused_evenWithAFreshSequenceAndAGoodMac() {
    AtomicInteger started = new AtomicInteger();
    ServerCallHandler<Object, Object> service = (call, headers) -> {
      started.incrementAndGet();
      return new ServerCall.Listener<>() {};
    };
    interceptor.interceptCall(call(), signed(1), service);
    interceptor.interceptCall(call(), signed(2), service);

    assertThat(started).as("streams the service was asked to start").hasValue(1);
    assertThat(registry.liveCount()).isEqualTo(1);
    assertThat(refusals).singleElement().satisfies(r -> assertThat(r.reason()).isEqualTo("second stream on one session"));
  }

  /** Its TLS session and engine are a kilobyte or more: a session waiting for a stream does not keep them alive. */
  @Test
  void aWaitingSession_keepsNothingOfAConnectionThatIsGone() {
    Object connection = new Object();
    Session waiting = sessions.create(HandshakeCrypto.randomBytes(32),
        new DelegateIdentity("acct", 1, "tid_aaaaaaaaaaaaaaaa", "default", "d"), connection, "127.0.0.1");
    java.lang.ref.WeakReference<Object> probe = new java.lang.ref.WeakReference<>(connection);
    connection = null;

    org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> {
      System.gc();
      return probe.get() == null;
    });
    assertThat(sessions.find(waiting.id())).as("still waiting for its stream").isSameAs(waiting);
  }

  @Test
  void theSessionKeepsItsKey_andHandsOutACopy() {
    byte[] kept = session.key();
    assertThat(kept).isEqualTo(key).isNotSameAs(key);
    kept[0] ^= 1;
    assertThat(session.key()).isEqualTo(key);
  }

  @Test
  void aClaimedSessionPresentedWithAGoodMacOnAnotherConnection_isRefusedAsSuch() {
    Attributes equalButAnother = Attributes.newBuilder()
        .set(Grpc.TRANSPORT_ATTR_REMOTE_ADDR, new InetSocketAddress("127.0.0.1", 40000))
        .build();
    assertThat(session.provedOn(CONNECTION)).as("its handshake's connection").isTrue();
    assertThat(session.provedOn(equalButAnother)).as("an equal connection object that is not the same one").isFalse();
    AtomicInteger started = new AtomicInteger();
    ServerCallHandler<Object, Object> service = (call, headers) -> {
      started.incrementAndGet();
      return new ServerCall.Listener<>() {};
    };

    interceptor.interceptCall(call(), signed(1), service);
    interceptor.interceptCall(new IdleServerCall(equalButAnother, DelegateStreamGrpc.getConnectMethod()), signed(2),
        service);

    assertThat(started).hasValue(1);
    assertThat(session.provedOn(CONNECTION)).as("claimed, on its handshake's connection").isTrue();
    assertThat(refusals).singleElement().satisfies(r ->
        assertThat(r.reason()).isEqualTo("session used on another connection than its handshake's"));
  }

  @Test
  void aStreamWhoseStartThrowsLeavesNoSessionAndNoRevocableCall() {
    ServerCallHandler<Object, Object> failing = (call, headers) -> {
      throw new IllegalStateException("the service failed to start the stream");
    };

    assertThatThrownBy(() -> interceptor.interceptCall(call(), signed(1), failing))
        .isInstanceOf(IllegalStateException.class);
    assertThat(sessions.find(session.id())).as("the session, claimed by the call").isNull();
    assertThat(registry.liveCount()).as("streams a revoke would count").isZero();
  }

  private static IdleServerCall call() {
    return new IdleServerCall(CONNECTION, DelegateStreamGrpc.getConnectMethod());
  }

  /** The session metadata the delegate sends with call {@code sequence} (no TLS: the empty binding). */
  private Metadata signed(long sequence) {
    Metadata headers = new Metadata();
    headers.put(SessionMetadata.SESSION_ID, session.id());
    headers.put(SessionMetadata.CALL_SEQ, Long.toString(sequence));
    headers.put(SessionMetadata.CALL_MAC, SessionMetadata.BASE64URL.encode(HandshakeCrypto.callMac(key,
        session.sessionId(), sequence, DelegateStreamGrpc.getConnectMethod().getFullMethodName(),
        HandshakeCrypto.channelBinding(null))));
    return headers;
  }
}
