package dev.tether.manager.hardening;

import dev.tether.manager.testing.EndStatus;
import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import dev.tether.common.token.DelegateToken;
import dev.tether.delegate.connect.SessionCredentials;
import dev.tether.delegate.connect.StreamClient;
import dev.tether.manager.auth.HandshakeLimiter;
import dev.tether.manager.server.ManagerSettings;
import dev.tether.manager.testing.ManagerFixture;
import dev.tether.manager.testing.RawBytes;
import dev.tether.manager.testing.RawHandshake;
import dev.tether.manager.token.CreatedAccount;
import dev.tether.proto.delegate.v1.Begin;
import dev.tether.proto.delegate.v1.DelegateAuthGrpc;
import dev.tether.proto.delegate.v1.DelegateMessage;
import dev.tether.proto.delegate.v1.DelegateStreamGrpc;
import dev.tether.proto.delegate.v1.Goodbye;
import dev.tether.proto.delegate.v1.HandshakeRequest;
import dev.tether.proto.delegate.v1.HandshakeResponse;
import dev.tether.proto.delegate.v1.Heartbeat;
import dev.tether.proto.delegate.v1.ManagerMessage;
import dev.tether.proto.delegate.v1.Prove;
import dev.tether.proto.delegate.v1.Register;
import io.grpc.CallOptions;
import io.grpc.ClientCall;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

/**
 * Random, truncated, oversized, reordered and duplicated handshake and stream messages, and raw
 * garbage bytes, against one real manager: never accepted, always a status (never an unhandled
 * exception), never stuck past the handshake deadline, and a bystander delegate unaffected.
 */
class ProtocolFuzzTest {

  private static final Duration HANDSHAKE_TIMEOUT = Duration.ofSeconds(2);
  private static final Set<Status.Code> HANDSHAKE_ENDINGS = EnumSet.of(Status.Code.UNAUTHENTICATED,
      Status.Code.INVALID_ARGUMENT, Status.Code.FAILED_PRECONDITION, Status.Code.DEADLINE_EXCEEDED);
  private static final Set<Status.Code> STREAM_ENDINGS = EnumSet.of(Status.Code.OK,
      Status.Code.INVALID_ARGUMENT, Status.Code.FAILED_PRECONDITION);
  private static final AtomicLong FUZZED = new AtomicLong();

  private static Path dataDir;
  private static ManagerFixture fixture;
  private static String accountId;
  private static DelegateToken token;
  private static StreamClient bystander;

  @BeforeContainer
  static void start() throws Exception {
    dataDir = Files.createTempDirectory("tether-fuzz");
    fixture = new ManagerFixture(dataDir, ManagerSettings.defaults()
        .withHandshakeTimeout(HANDSHAKE_TIMEOUT)
        .withLimits(HandshakeLimiter.Settings.defaults().withMaxConcurrent(10_000).withFailuresPerAddress(1e9, 1e9)));
    CreatedAccount account = fixture.account("fuzz");
    accountId = account.account().id();
    token = account.defaultToken().value();
    bystander = fixture.connect(accountId, token, "bystander");
  }

  @AfterContainer
  static void bystanderStillHeartbeatsAndStop() throws Exception {
    long seq = bystander.heartbeat();
    org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> bystander.lastAckSequence() >= seq);
    assertThat(bystander.closed()).isNotDone();
    System.out.printf("protocol fuzz: %d random exchanges, none accepted, bystander unaffected%n", FUZZED.get());
    fixture.close();
  }

  @Property(tries = 400)
  void randomHandshakeMessages_areNeverAcceptedAndAlwaysEndWithAStatus(
      @ForAll("handshakeMessages") List<HandshakeRequest> messages) throws Exception {
    BlockingQueue<Object> events = new LinkedBlockingQueue<>();
    StreamObserver<HandshakeRequest> requests = DelegateAuthGrpc.newStub(fixture.channel())
        .handshake(RawHandshake.collector(events));
    for (HandshakeRequest m : messages) {
      requests.onNext(m);
    }
    requests.onCompleted();
    Status end = awaitEnd(events);
    assertThat(end.getCode()).as("ended with %s", end).isIn(HANDSHAKE_ENDINGS);
    FUZZED.incrementAndGet();
  }

  @Property(tries = 200)
  void garbageBytesInPlaceOfAHandshakeMessage_endWithAStatus(@ForAll("garbage") byte[] payload) throws Exception {
    MethodDescriptor<byte[], byte[]> raw = DelegateAuthGrpc.getHandshakeMethod().toBuilder(RawBytes.MARSHALLER, RawBytes.MARSHALLER).build();
    CompletableFuture<Status> closed = new CompletableFuture<>();
    BlockingQueue<byte[]> replies = new LinkedBlockingQueue<>();
    ClientCall<byte[], byte[]> call = fixture.channel().newCall(raw, CallOptions.DEFAULT.withDeadlineAfter(5, TimeUnit.SECONDS));
    call.start(new ClientCall.Listener<>() {
      @Override
      public void onMessage(byte[] message) {
        replies.add(message);
      }

      @Override
      public void onClose(Status status, Metadata trailers) {
        closed.complete(status);
      }
    }, new Metadata());
    call.request(10);
    call.sendMessage(payload);
    call.halfClose();
    Status status = closed.get(10, TimeUnit.SECONDS);
    assertThat(status.isOk()).isFalse();
    assertThat(status.getCode()).isNotEqualTo(Status.Code.DEADLINE_EXCEEDED);
    for (byte[] reply : replies) {
      assertThat(HandshakeResponse.parseFrom(reply).hasAccepted()).isFalse();
    }
    FUZZED.incrementAndGet();
  }

  @Property(tries = 300)
  void randomStreamMessages_onAnAuthenticatedSession_endCleanly(
      @ForAll("streamMessages") List<DelegateMessage> messages) throws Exception {
    CompletableFuture<Status> closed = new CompletableFuture<>();
    // a session carries one stream (docs/protocol.md, 5.2): each try proves itself anew
    SessionCredentials session = new SessionCredentials(fixture.handshake(accountId, token, "fuzzer"));
    StreamObserver<DelegateMessage> requests = DelegateStreamGrpc.newStub(fixture.channel())
        .withCallCredentials(session)
        .connect(EndStatus.<ManagerMessage>into(closed));
    for (DelegateMessage m : messages) {
      requests.onNext(m);
    }
    requests.onCompleted();
    Status status = closed.get(10, TimeUnit.SECONDS);
    assertThat(status.getCode()).as("ended with %s", status).isIn(STREAM_ENDINGS);
    FUZZED.incrementAndGet();
  }

  @Provide
  Arbitrary<List<HandshakeRequest>> handshakeMessages() {
    Arbitrary<String> accounts = Arbitraries.oneOf(Arbitraries.just(accountId), Arbitraries.strings().ofMaxLength(80));
    Arbitrary<String> tokenIds = Arbitraries.oneOf(Arbitraries.just(token.publicId()),
        Arbitraries.strings().withChars("tid_abcdefghijklmnopqrstuvwxyz234567").ofMaxLength(30), Arbitraries.strings().ofMaxLength(40));
    Arbitrary<Integer> versions = Arbitraries.oneOf(Arbitraries.just(1), Arbitraries.integers().between(0, 5), Arbitraries.integers());
    Arbitrary<byte[]> nonces = Arbitraries.oneOf(bytes(32, 32), bytes(0, 64));
    Arbitrary<HandshakeRequest> begin = Combinators.combine(versions, accounts, tokenIds,
            Arbitraries.strings().ofMaxLength(200), nonces)
        .as((v, a, t, n, nonce) -> HandshakeRequest.newBuilder().setBegin(Begin.newBuilder()
            .setProtocolVersion(v).setAccountId(a).setTokenId(t).setDelegateName(n)
            .setClientNonce(ByteString.copyFrom(nonce))).build());
    Arbitrary<HandshakeRequest> prove = bytes(0, 64).map(p -> HandshakeRequest.newBuilder()
        .setProve(Prove.newBuilder().setClientProof(ByteString.copyFrom(p))).build());
    Arbitrary<HandshakeRequest> empty = Arbitraries.just(HandshakeRequest.getDefaultInstance());
    return Arbitraries.frequencyOf(
            net.jqwik.api.Tuple.of(5, begin), net.jqwik.api.Tuple.of(4, prove), net.jqwik.api.Tuple.of(1, empty))
        .list().ofMinSize(0).ofMaxSize(6);
  }

  @Provide
  Arbitrary<byte[]> garbage() {
    return bytes(0, 4096);
  }

  @Provide
  Arbitrary<List<DelegateMessage>> streamMessages() {
    Arbitrary<String> text = Arbitraries.oneOf(Arbitraries.strings().ofMaxLength(40), Arbitraries.strings().ofMaxLength(400));
    Arbitrary<DelegateMessage> register = Combinators.combine(text, text, text, text.list().ofMaxSize(80), text)
        .as((h, t, v, tags, ip) -> DelegateMessage.newBuilder().setRegister(Register.newBuilder()
            .setHostname(h).setDelegateType(t).setVersion(v).addAllTags(tags).setIp(ip)).build());
    Arbitrary<DelegateMessage> heartbeat = Arbitraries.longs().map(seq -> DelegateMessage.newBuilder()
        .setHeartbeat(Heartbeat.newBuilder().setSequence(seq).setSentAtUnixMs(seq)).build());
    Arbitrary<DelegateMessage> goodbye = text.map(r -> DelegateMessage.newBuilder()
        .setGoodbye(Goodbye.newBuilder().setReason(r)).build());
    Arbitrary<DelegateMessage> empty = Arbitraries.just(DelegateMessage.getDefaultInstance());
    return Arbitraries.oneOf(register, heartbeat, goodbye, empty).list().ofMinSize(0).ofMaxSize(8);
  }

  private static Arbitrary<byte[]> bytes(int min, int max) {
    return Arbitraries.bytes().array(byte[].class).ofMinSize(min).ofMaxSize(max);
  }

  private static Status awaitEnd(BlockingQueue<Object> events) throws InterruptedException {
    long deadline = System.nanoTime() + HANDSHAKE_TIMEOUT.toNanos() + TimeUnit.SECONDS.toNanos(5);
    while (true) {
      Object event = events.poll(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
      if (event == null) {
        throw new AssertionError("the handshake call was still open past its deadline");
      }
      if (event instanceof HandshakeResponse response) {
        assertThat(response.hasAccepted()).as("a fuzzed handshake was accepted").isFalse();
      } else {
        return (Status) event;
      }
    }
  }

}
