package dev.tether.delegate.testing;

import com.google.protobuf.ByteString;
import dev.tether.common.handshake.HandshakeCrypto;
import dev.tether.common.handshake.Transcript;
import dev.tether.common.token.DelegateToken;
import dev.tether.delegate.config.ManagerEndpoint;
import dev.tether.proto.delegate.v1.Accepted;
import dev.tether.proto.delegate.v1.Begin;
import dev.tether.proto.delegate.v1.Challenge;
import dev.tether.proto.delegate.v1.DelegateAuthGrpc;
import dev.tether.proto.delegate.v1.DelegateMessage;
import dev.tether.proto.delegate.v1.DelegateStreamGrpc;
import dev.tether.proto.delegate.v1.HandshakeRequest;
import dev.tether.proto.delegate.v1.HandshakeResponse;
import dev.tether.proto.delegate.v1.HeartbeatAck;
import dev.tether.proto.delegate.v1.ManagerMessage;
import dev.tether.proto.delegate.v1.Registered;
import io.grpc.Grpc;
import io.grpc.InsecureServerCredentials;
import io.grpc.Metadata;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * A stand-in for the manager on a loopback port (plaintext): it runs the manager's side of the
 * handshake for one known token (or answers with a decoy proof, as a manager does for an account or
 * token it does not know), accepts the stream, and closes it when the test says, with the status
 * and trailers the test gives. It acknowledges every heartbeat. It checks no session MAC: the
 * delegate's side is what is under test.
 */
public final class FakeManager implements AutoCloseable {

  private final DelegateToken token;
  private final boolean decoy;
  private final Server server;
  private final CompletableFuture<StreamObserver<ManagerMessage>> registered = new CompletableFuture<>();
  private final CompletableFuture<String> goodbye = new CompletableFuture<>();

  private FakeManager(DelegateToken token, boolean decoy) throws IOException {
    this.token = token;
    this.decoy = decoy;
    this.server = Grpc.newServerBuilderForPort(0, InsecureServerCredentials.create())
        .addService(new Auth())
        .addService(new Stream())
        .build()
        .start();
  }

  /** A manager that knows {@code token}. */
  public static FakeManager knowing(DelegateToken token) throws IOException {
    return new FakeManager(token, false);
  }

  /** A manager that knows neither the account nor the token: its proof is a decoy. */
  public static FakeManager decoy() throws IOException {
    return new FakeManager(null, true);
  }

  public ManagerEndpoint endpoint() {
    return new ManagerEndpoint("127.0.0.1", server.getPort(), false);
  }

  /** Completes when a delegate has registered on a stream. */
  public CompletableFuture<StreamObserver<ManagerMessage>> registered() {
    return registered;
  }

  /** Completes with the reason of the delegate's Goodbye. */
  public CompletableFuture<String> goodbye() {
    return goodbye;
  }

  /** Ends the registered stream with {@code status} and {@code trailers}. */
  public void closeStream(Status status, Metadata trailers) throws Exception {
    registered.get(10, TimeUnit.SECONDS).onError(status.asRuntimeException(trailers));
  }

  @Override
  public void close() {
    server.shutdownNow();
    try {
      server.awaitTermination(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      // try-with-resources would warn of an AutoCloseable that throws InterruptedException
      Thread.currentThread().interrupt();
    }
  }

  private final class Auth extends DelegateAuthGrpc.DelegateAuthImplBase {
    @Override
    public StreamObserver<HandshakeRequest> handshake(StreamObserver<HandshakeResponse> responses) {
      return new StreamObserver<>() {
        @Override
        public void onNext(HandshakeRequest request) {
          if (request.hasBegin()) {
            Begin begin = request.getBegin();
            byte[] serverNonce = HandshakeCrypto.randomBytes(HandshakeCrypto.NONCE_BYTES);
            byte[] proof;
            if (decoy) {
              proof = HandshakeCrypto.randomBytes(HandshakeCrypto.PROOF_BYTES);
            } else {
              byte[] hash = new Transcript(begin.getProtocolVersion(), begin.getAccountId(), begin.getTokenId(),
                  begin.getDelegateName(), begin.getClientNonce().toByteArray(), serverNonce,
                  HandshakeCrypto.channelBinding(null)).hash();
              proof = HandshakeCrypto.serverProof(token.credential(begin.getAccountId()).key(), hash);
            }
            responses.onNext(HandshakeResponse.newBuilder().setChallenge(Challenge.newBuilder()
                .setServerNonce(ByteString.copyFrom(serverNonce)).setServerProof(ByteString.copyFrom(proof))).build());
          } else {
            responses.onNext(HandshakeResponse.newBuilder().setAccepted(Accepted.newBuilder()
                .setSessionId(ByteString.copyFrom(HandshakeCrypto.randomBytes(HandshakeCrypto.SESSION_ID_BYTES)))
                .setHeartbeatIntervalMs(60_000)).build());
            responses.onCompleted();
          }
        }

        @Override
        public void onError(Throwable t) {
          // the delegate ended the handshake
        }

        @Override
        public void onCompleted() {
          // Accepted was the last message
        }
      };
    }
  }

  private final class Stream extends DelegateStreamGrpc.DelegateStreamImplBase {
    @Override
    public StreamObserver<DelegateMessage> connect(StreamObserver<ManagerMessage> responses) {
      return new StreamObserver<>() {
        @Override
        public void onNext(DelegateMessage message) {
          if (message.hasRegister()) {
            responses.onNext(ManagerMessage.newBuilder().setRegistered(Registered.newBuilder()
                .setDelegateId("dlg_fake").setHeartbeatIntervalMs(60_000)).build());
            registered.complete(responses);
          } else if (message.hasHeartbeat()) {
            responses.onNext(ManagerMessage.newBuilder().setHeartbeatAck(HeartbeatAck.newBuilder()
                .setSequence(message.getHeartbeat().getSequence())
                .setReceivedAtUnixMs(System.currentTimeMillis())).build());
          } else if (message.hasGoodbye()) {
            goodbye.complete(message.getGoodbye().getReason());
          }
        }

        @Override
        public void onError(Throwable t) {
          // the delegate went away
        }

        @Override
        public void onCompleted() {
          responses.onCompleted();
        }
      };
    }
  }
}
