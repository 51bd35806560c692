package dev.tether.delegate.connect;

import com.google.protobuf.ByteString;
import dev.tether.common.handshake.HandshakeCrypto;
import dev.tether.common.handshake.Transcript;
import dev.tether.common.text.UserText;
import dev.tether.common.token.DelegateToken;
import dev.tether.common.token.TokenCredential;
import dev.tether.proto.delegate.v1.Begin;
import dev.tether.proto.delegate.v1.Challenge;
import dev.tether.proto.delegate.v1.DelegateAuthGrpc;
import dev.tether.proto.delegate.v1.HandshakeRequest;
import dev.tether.proto.delegate.v1.HandshakeResponse;
import dev.tether.proto.delegate.v1.Prove;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.Grpc;
import io.grpc.Metadata;
import io.grpc.Status;
import java.security.cert.Certificate;
import java.security.cert.CertificateEncodingException;
import java.time.Duration;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;

/**
 * The delegate's side of the mutual token handshake. It verifies the manager's proof, bound to the
 * certificate the manager presented on this very connection, before it proves anything itself;
 * only then does it send its own proof. The token never leaves the process.
 */
public final class HandshakeClient {

  private final Duration timeout;

  public HandshakeClient(Duration timeout) {
    this.timeout = timeout;
  }

  /**
   * Runs one handshake on {@code channel}.
   *
   * @throws HandshakeException with a kind saying whether to stop, distrust or retry
   */
  public EstablishedSession handshake(Channel channel, String accountId, DelegateToken token,
      String delegateName) throws HandshakeException {
    // before the call starts: a custom token's first derivation is an Argon2id evaluation
    TokenCredential credential = token.credential(accountId);
    BlockingQueue<Object> events = new LinkedBlockingQueue<>();
    ClientCall<HandshakeRequest, HandshakeResponse> call = channel.newCall(
        DelegateAuthGrpc.getHandshakeMethod(),
        CallOptions.DEFAULT.withDeadlineAfter(timeout.toMillis(), TimeUnit.MILLISECONDS));
    call.start(new ClientCall.Listener<>() {
      @Override
      public void onMessage(HandshakeResponse message) {
        events.add(message);
      }

      @Override
      public void onClose(Status status, Metadata trailers) {
        events.add(status);
      }
    }, new Metadata());
    call.request(2);
    try {
      byte[] clientNonce = HandshakeCrypto.randomBytes(HandshakeCrypto.NONCE_BYTES);
      call.sendMessage(HandshakeRequest.newBuilder()
          .setBegin(Begin.newBuilder()
              .setProtocolVersion(HandshakeCrypto.PROTOCOL_VERSION)
              .setAccountId(accountId)
              .setTokenId(credential.publicId())
              .setDelegateName(delegateName)
              .setClientNonce(ByteString.copyFrom(clientNonce)))
          .build());
      HandshakeResponse first = next(events, "Challenge");
      if (!first.hasChallenge()) {
        throw protocolViolation(call, "expected Challenge, got " + first.getStepCase());
      }
      Challenge challenge = first.getChallenge();
      if (challenge.getServerNonce().size() != HandshakeCrypto.NONCE_BYTES) {
        throw protocolViolation(call, "server nonce of " + challenge.getServerNonce().size() + " bytes");
      }
      byte[] tokenKey = credential.key();
      byte[] channelBinding = HandshakeCrypto.channelBinding(peerCertificate(call.getAttributes()));
      byte[] transcriptHash = new Transcript(HandshakeCrypto.PROTOCOL_VERSION, accountId,
          credential.publicId(), delegateName, clientNonce, challenge.getServerNonce().toByteArray(),
          channelBinding).hash();
      byte[] expected = HandshakeCrypto.serverProof(tokenKey, transcriptHash);
      if (!HandshakeCrypto.equal(expected, challenge.getServerProof().toByteArray())) {
        call.cancel("manager failed to prove knowledge of the token", null);
        // A manager answers an unknown account or token with a decoy proof (docs/protocol.md 4.3),
        // so a wrong account id, a deleted token, another manager and a relay all end here.
        throw HandshakeException.wrongProof(
            "the manager could not prove that it knows token " + credential.publicId() + " of account "
                + UserText.quote(accountId) + ": the account id or the token is wrong (or the token was"
                + " deleted), the address names another manager, or a man in the middle (a proxy presenting"
                + " another certificate) stands between them");
      }
      call.sendMessage(HandshakeRequest.newBuilder()
          .setProve(Prove.newBuilder()
              .setClientProof(ByteString.copyFrom(HandshakeCrypto.clientProof(tokenKey, transcriptHash))))
          .build());
      call.halfClose();
      HandshakeResponse second = next(events, "Accepted");
      if (!second.hasAccepted()) {
        throw protocolViolation(call, "expected Accepted, got " + second.getStepCase());
      }
      int intervalMs = second.getAccepted().getHeartbeatIntervalMs();
      if (second.getAccepted().getSessionId().size() != HandshakeCrypto.SESSION_ID_BYTES || intervalMs <= 0) {
        throw protocolViolation(call, "malformed Accepted");
      }
      return new EstablishedSession(second.getAccepted().getSessionId().toByteArray(),
          HandshakeCrypto.sessionKey(tokenKey, transcriptHash), channelBinding, Duration.ofMillis(intervalMs),
          credential.publicId());
    } catch (InterruptedException e) {
      call.cancel("interrupted", e);
      Thread.currentThread().interrupt();
      throw new HandshakeException(HandshakeException.Kind.TRANSIENT, "handshake interrupted", e);
    } catch (RuntimeException e) {
      call.cancel("handshake failed", e);
      throw e;
    }
  }

  private HandshakeResponse next(BlockingQueue<Object> events, String expected)
      throws InterruptedException, HandshakeException {
    Object event = events.poll(timeout.toMillis() + 1_000, TimeUnit.MILLISECONDS);
    if (event instanceof HandshakeResponse response) {
      return response;
    }
    if (event instanceof Status status) {
      throw fromStatus(status, expected);
    }
    throw new HandshakeException(HandshakeException.Kind.TRANSIENT,
        "no " + expected + " from the manager within " + timeout.toMillis() + " ms");
  }

  private static HandshakeException fromStatus(Status status, String expected) {
    String detail = status.getCode() + (status.getDescription() == null ? "" : ": " + status.getDescription());
    if (expected.equals("Challenge")) {
      // Nothing the peer says before it has proved that it knows the token can be trusted: an
      // impostor could otherwise make a delegate give up its token ("rejected") or stop for good.
      // A genuine manager never refuses a well-formed Begin with UNAUTHENTICATED (it answers
      // unknown tokens with a decoy proof), so this is retried like an outage.
      if (status.getCode() == Status.Code.UNIMPLEMENTED) {
        // a gRPC server without the delegate protocol: most likely the manager's admin listener
        return new HandshakeException(HandshakeException.Kind.TRANSIENT,
            "the server there has no delegate handshake (" + detail + "): MANAGER_HOST_AND_PORT must name the"
                + " manager's delegate listener (serve --listen, port 7443 by default), not its admin listener"
                + " (--admin-listen, port 7444 by default) or another gRPC server", status);
      }
      return new HandshakeException(HandshakeException.Kind.TRANSIENT,
          "the manager ended the handshake before proving that it knows the token (" + detail + ")", status);
    }
    return switch (status.getCode()) {
      case UNAUTHENTICATED, PERMISSION_DENIED -> new HandshakeException(
          HandshakeException.Kind.TOKEN_REJECTED, "the manager rejected the token (" + detail + ")");
      case INVALID_ARGUMENT, FAILED_PRECONDITION, UNIMPLEMENTED -> new HandshakeException(
          HandshakeException.Kind.PROTOCOL, "the manager refused the handshake (" + detail + ")");
      default -> new HandshakeException(HandshakeException.Kind.TRANSIENT,
          "handshake failed before " + expected + " (" + detail + ")", status);
    };
  }


  private static HandshakeException protocolViolation(ClientCall<?, ?> call, String what) {
    call.cancel("protocol violation", null);
    return new HandshakeException(HandshakeException.Kind.MANAGER_NOT_TRUSTED,
        "the manager broke the handshake protocol: " + what);
  }

  /**
   * DER of the certificate the manager presented on the connection whose transport attributes are
   * given (a call's, never a separate connection's), or null without TLS.
   */
  static byte[] peerCertificate(io.grpc.Attributes transport) throws HandshakeException {
    SSLSession ssl = transport.get(Grpc.TRANSPORT_ATTR_SSL_SESSION);
    if (ssl == null) {
      return null;
    }
    try {
      Certificate[] chain = ssl.getPeerCertificates();
      return chain[0].getEncoded();
    } catch (SSLPeerUnverifiedException | CertificateEncodingException e) {
      throw new HandshakeException(HandshakeException.Kind.MANAGER_NOT_TRUSTED,
          "cannot read the manager's TLS certificate", e);
    }
  }
}
