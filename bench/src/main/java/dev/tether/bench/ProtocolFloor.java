package dev.tether.bench;

import com.google.protobuf.ByteString;
import dev.tether.common.handshake.HandshakeCrypto;
import dev.tether.common.handshake.SessionMetadata;
import dev.tether.common.handshake.Transcript;
import dev.tether.common.handshake.WireText;
import dev.tether.common.token.TokenCredential;
import dev.tether.manager.tls.TlsMaterial;
import dev.tether.proto.delegate.v1.Accepted;
import dev.tether.proto.delegate.v1.Begin;
import dev.tether.proto.delegate.v1.Challenge;
import dev.tether.proto.delegate.v1.DelegateAuthGrpc;
import dev.tether.proto.delegate.v1.HandshakeRequest;
import dev.tether.proto.delegate.v1.HandshakeResponse;
import io.grpc.ForwardingServerCallListener.SimpleForwardingServerCallListener;
import io.grpc.Metadata;
import io.grpc.Server;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.security.cert.CertificateEncodingException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;

/**
 * The protocol's floor: Tether's delegate wire (docs/protocol.md 4 and 5: the handshake call with
 * its two round trips and both proofs, then the stream call carrying the session metadata, its MAC
 * checked) on the baseline's Netty server settings and TLS certificate, and nothing else: one token
 * held in memory, sessions in a map, no database, no durable registration, no limiter, no logging,
 * no revocation registry. Against the same load as the manager and the baseline, it splits a gap
 * between them into what the protocol's shape costs on bare grpc-java (floor against baseline) and
 * what the manager adds to the protocol (manager against floor).
 *
 * <p>Not a server to deploy: it knows one token, refuses every other (without the decoy proof a
 * manager answers), and never ends a session but with its stream.
 */
final class ProtocolFloor implements AutoCloseable {

  /** The one account id the floor knows. */
  static final String ACCOUNT = "protocol-floor";
  /** The heartbeat interval every Accepted names. */
  private static final int HEARTBEAT_INTERVAL_MS = 10_000;

  private final Server server;
  private final String accountId;
  private final TokenCredential token;
  /** The channel binding of every connection: the SHA-256 of this server's one certificate. */
  private final byte[] binding;
  private final ConcurrentMap<String, Session> sessions = new ConcurrentHashMap<>();

  /** A completed handshake, until its stream ends. */
  private static final class Session {
    final byte[] id;
    final byte[] key;
    private long lastSequence;

    Session(byte[] id, byte[] key) {
      this.id = id;
      this.key = key;
    }

    /** True once for each sequence above the last one accepted (docs/protocol.md 5: no replay). */
    synchronized boolean advanceTo(long sequence) {
      if (Long.compareUnsigned(sequence, lastSequence) <= 0) {
        return false;
      }
      lastSequence = sequence;
      return true;
    }
  }

  /** On 127.0.0.1:{@code port} (0 for any free port), accepting {@code token} of {@code accountId}. */
  ProtocolFloor(TlsMaterial tls, int port, String accountId, TokenCredential token)
      throws IOException, CertificateEncodingException {
    this.accountId = accountId;
    this.token = token;
    this.binding = HandshakeCrypto.channelBinding(tls.leafCertificate().getEncoded());
    server = Baseline.builder(tls.certificate(), tls.privateKey(), port)
        .addService(new Handshakes())
        .addService(ServerInterceptors.intercept(new Baseline.Service(), new SessionCheck()))
        .build()
        .start();
  }

  int port() {
    return ((InetSocketAddress) server.getListenSockets().get(0)).getPort();
  }

  /** Begin answered with a Challenge, Prove checked and answered with Accepted, as docs/protocol.md 4 says. */
  private final class Handshakes extends DelegateAuthGrpc.DelegateAuthImplBase {
    @Override
    public StreamObserver<HandshakeRequest> handshake(StreamObserver<HandshakeResponse> out) {
      return new StreamObserver<>() {
        private byte[] transcriptHash;
        private boolean done;

        @Override
        public void onNext(HandshakeRequest request) {
          if (done) {
            return;
          }
          switch (request.getStepCase()) {
            case BEGIN -> begin(request.getBegin());
            case PROVE -> prove(request.getProve().getClientProof().toByteArray());
            default -> refuse(Status.INVALID_ARGUMENT.withDescription("handshake message has no step"));
          }
        }

        private void begin(Begin b) {
          if (transcriptHash != null || b.getProtocolVersion() != HandshakeCrypto.PROTOCOL_VERSION
              || !b.getAccountId().equals(accountId) || !b.getTokenId().equals(token.publicId())
              || b.getClientNonce().size() != HandshakeCrypto.NONCE_BYTES) {
            refuse(Status.UNAUTHENTICATED.withDescription("unknown account or token, or a malformed Begin"));
            return;
          }
          byte[] serverNonce = HandshakeCrypto.randomBytes(HandshakeCrypto.NONCE_BYTES);
          transcriptHash = new Transcript(b.getProtocolVersion(), b.getAccountId(), b.getTokenId(),
              b.getDelegateName(), b.getClientNonce().toByteArray(), serverNonce, binding).hash();
          out.onNext(HandshakeResponse.newBuilder().setChallenge(Challenge.newBuilder()
              .setServerNonce(ByteString.copyFrom(serverNonce))
              .setServerProof(ByteString.copyFrom(HandshakeCrypto.serverProof(token.key(), transcriptHash))))
              .build());
        }

        private void prove(byte[] clientProof) {
          if (transcriptHash == null
              || !HandshakeCrypto.equal(HandshakeCrypto.clientProof(token.key(), transcriptHash), clientProof)) {
            refuse(Status.UNAUTHENTICATED.withDescription(WireText.AUTHENTICATION_FAILED));
            return;
          }
          byte[] id = HandshakeCrypto.randomBytes(HandshakeCrypto.SESSION_ID_BYTES);
          sessions.put(SessionMetadata.BASE64URL.encode(id),
              new Session(id, HandshakeCrypto.sessionKey(token.key(), transcriptHash)));
          done = true;
          out.onNext(HandshakeResponse.newBuilder().setAccepted(Accepted.newBuilder()
              .setSessionId(ByteString.copyFrom(id)).setHeartbeatIntervalMs(HEARTBEAT_INTERVAL_MS)).build());
          out.onCompleted();
        }

        private void refuse(Status status) {
          done = true;
          out.onError(status.asRuntimeException());
        }

        @Override
        public void onError(Throwable t) {
          // the client went away
        }

        @Override
        public void onCompleted() {
          // the client half-closes after Prove; Accepted ends the call
        }
      };
    }
  }

  /** The stream call's session metadata: a known session, a canonical new sequence, the right MAC. */
  private final class SessionCheck implements ServerInterceptor {
    @Override
    public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
        ServerCallHandler<Q, R> next) {
      String sessionText = headers.get(SessionMetadata.SESSION_ID);
      String seqText = headers.get(SessionMetadata.CALL_SEQ);
      String macText = headers.get(SessionMetadata.CALL_MAC);
      Session session = sessionText == null ? null : sessions.get(sessionText);
      if (session == null || seqText == null || macText == null) {
        return refuse(call);
      }
      long sequence;
      byte[] mac;
      try {
        sequence = Long.parseUnsignedLong(seqText);
        mac = SessionMetadata.BASE64URL.decode(macText);
      } catch (IllegalArgumentException e) {
        return refuse(call);
      }
      byte[] expected = HandshakeCrypto.callMac(session.key, session.id, sequence,
          call.getMethodDescriptor().getFullMethodName(), binding);
      if (!HandshakeCrypto.equal(expected, mac) || !session.advanceTo(sequence)) {
        return refuse(call);
      }
      return new SimpleForwardingServerCallListener<>(next.startCall(call, headers)) {
        @Override
        public void onComplete() {
          sessions.remove(sessionText);
          super.onComplete();
        }

        @Override
        public void onCancel() {
          sessions.remove(sessionText);
          super.onCancel();
        }
      };
    }

    private <Q, R> ServerCall.Listener<Q> refuse(ServerCall<Q, R> call) {
      call.close(Status.UNAUTHENTICATED.withDescription(WireText.AUTHENTICATION_FAILED), new Metadata());
      return new ServerCall.Listener<>() {};
    }
  }

  /** As the baseline stops: no new calls, every stream ended. */
  @Override
  public void close() {
    server.shutdownNow();
  }
}
