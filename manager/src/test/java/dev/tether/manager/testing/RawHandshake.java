package dev.tether.manager.testing;

import com.google.protobuf.ByteString;
import dev.tether.common.handshake.HandshakeCrypto;
import dev.tether.common.handshake.Transcript;
import dev.tether.common.token.DelegateToken;
import dev.tether.proto.delegate.v1.Begin;
import dev.tether.proto.delegate.v1.Challenge;
import dev.tether.proto.delegate.v1.DelegateAuthGrpc;
import dev.tether.proto.delegate.v1.HandshakeRequest;
import dev.tether.proto.delegate.v1.HandshakeResponse;
import dev.tether.proto.delegate.v1.Prove;
import io.grpc.Channel;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A handshake driven message by message, the way an attacker would: it ignores the manager's
 * proof and sends whatever proof it is told to. Records what it sent, for replays.
 */
public final class RawHandshake {

  /** What one raw handshake sent and how it ended. */
  public static final class Exchange {
    public final List<HandshakeRequest> sent = new ArrayList<>();
    public Status status;
    public boolean accepted;
  }

  private RawHandshake() {}

  public static Begin begin(String accountId, String tokenId) {
    return Begin.newBuilder()
        .setProtocolVersion(HandshakeCrypto.PROTOCOL_VERSION)
        .setAccountId(accountId)
        .setTokenId(tokenId)
        .setDelegateName("raw")
        .setClientNonce(ByteString.copyFrom(HandshakeCrypto.randomBytes(32)))
        .build();
  }

  /**
   * Sends {@code begin}, then a proof computed with {@code proofToken} (one bit flipped if asked)
   * regardless of what the manager proved, and waits for the end.
   */
  public static Exchange run(Channel channel, Begin begin, DelegateToken proofToken, boolean flipBit)
      throws InterruptedException {
    return run(channel, begin, proofToken, flipBit, new byte[0]);
  }

  /** As above, over TLS: {@code channelBinding} is the SHA-256 of the manager's certificate. */
  public static Exchange run(Channel channel, Begin begin, DelegateToken proofToken, boolean flipBit,
      byte[] channelBinding) throws InterruptedException {
    Exchange exchange = new Exchange();
    BlockingQueue<Object> events = new LinkedBlockingQueue<>();
    StreamObserver<HandshakeRequest> requests = DelegateAuthGrpc.newStub(channel).handshake(collector(events));
    HandshakeRequest first = HandshakeRequest.newBuilder().setBegin(begin).build();
    exchange.sent.add(first);
    requests.onNext(first);
    Object reply = events.poll(10, TimeUnit.SECONDS);
    if (reply instanceof Status status) {
      exchange.status = status;
      return exchange;
    }
    if (reply == null) {
      throw new AssertionError("no answer to Begin");
    }
    Challenge challenge = ((HandshakeResponse) reply).getChallenge();
    byte[] key = proofToken.credential(begin.getAccountId()).key();
    byte[] hash = new Transcript(begin.getProtocolVersion(), begin.getAccountId(), begin.getTokenId(),
        begin.getDelegateName(), begin.getClientNonce().toByteArray(),
        challenge.getServerNonce().toByteArray(), channelBinding).hash();
    byte[] proof = HandshakeCrypto.clientProof(key, hash);
    if (flipBit) {
      proof[7] ^= 1;
    }
    HandshakeRequest second = HandshakeRequest.newBuilder()
        .setProve(Prove.newBuilder().setClientProof(ByteString.copyFrom(proof))).build();
    exchange.sent.add(second);
    requests.onNext(second);
    requests.onCompleted();
    return finish(exchange, events);
  }

  /** Sends {@code messages} verbatim on a new call and waits for the end. */
  public static Exchange replay(Channel channel, List<HandshakeRequest> messages) throws InterruptedException {
    Exchange exchange = new Exchange();
    BlockingQueue<Object> events = new LinkedBlockingQueue<>();
    StreamObserver<HandshakeRequest> requests = DelegateAuthGrpc.newStub(channel).handshake(collector(events));
    for (HandshakeRequest message : messages) {
      requests.onNext(message);
      exchange.sent.add(message);
    }
    requests.onCompleted();
    return finish(exchange, events);
  }

  private static Exchange finish(Exchange exchange, BlockingQueue<Object> events) throws InterruptedException {
    while (true) {
      Object event = events.poll(15, TimeUnit.SECONDS);
      if (event instanceof HandshakeResponse response && response.hasAccepted()) {
        exchange.accepted = true;
      } else if (event instanceof Status status) {
        exchange.status = status;
        return exchange;
      } else if (event == null) {
        throw new AssertionError("handshake did not end");
      }
    }
  }

  /** A handshake left hanging after the Challenge; how it ends arrives in {@code events}. */
  public record Stalled(StreamObserver<HandshakeRequest> requests, BlockingQueue<Object> events) {}

  /** The manager refused a handshake before its Challenge. */
  public static final class Refused extends AssertionError {
    private static final long serialVersionUID = 1L;
    public final transient Status status;

    Refused(Status status) {
      super("expected a Challenge, the handshake ended with " + status);
      this.status = status;
    }
  }

  /** Sends Begin, waits for the Challenge and sends nothing more; {@link Refused} if it ends first. */
  public static Stalled stallAfterChallenge(Channel channel, Begin begin) throws InterruptedException {
    BlockingQueue<Object> events = new LinkedBlockingQueue<>();
    StreamObserver<HandshakeRequest> requests = DelegateAuthGrpc.newStub(channel).handshake(collector(events));
    requests.onNext(HandshakeRequest.newBuilder().setBegin(begin).build());
    Object first = events.poll(10, TimeUnit.SECONDS);
    if (first instanceof Status status) {
      throw new Refused(status);
    }
    if (!(first instanceof HandshakeResponse response) || !response.hasChallenge()) {
      throw new AssertionError("expected a Challenge, got " + first);
    }
    return new Stalled(requests, events);
  }

  public static StreamObserver<HandshakeResponse> collector(BlockingQueue<Object> events) {
    return new StreamObserver<>() {
      @Override
      public void onNext(HandshakeResponse value) {
        events.add(value);
      }

      @Override
      public void onError(Throwable t) {
        events.add(Status.fromThrowable(t));
      }

      @Override
      public void onCompleted() {
        events.add(Status.OK);
      }
    };
  }
}
