package dev.tether.manager.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.google.protobuf.ByteString;
import dev.tether.common.handshake.HandshakeCrypto;
import dev.tether.common.handshake.Transcript;
import dev.tether.common.testing.TokenLedger;
import dev.tether.common.token.DelegateToken;
import dev.tether.delegate.connect.EstablishedSession;
import dev.tether.delegate.connect.HandshakeClient;
import dev.tether.delegate.connect.HandshakeException;
import dev.tether.delegate.connect.SessionCredentials;
import dev.tether.delegate.connect.StreamClient;
import dev.tether.manager.server.ManagerSettings;
import dev.tether.manager.testing.EndStatus;
import dev.tether.manager.testing.ManagerFixture;
import dev.tether.manager.testing.RawHandshake;
import dev.tether.manager.token.CreatedAccount;
import dev.tether.proto.delegate.v1.Begin;
import dev.tether.proto.delegate.v1.Challenge;
import dev.tether.proto.delegate.v1.DelegateAuthGrpc;
import dev.tether.proto.delegate.v1.DelegateStreamGrpc;
import dev.tether.proto.delegate.v1.ManagerMessage;
import dev.tether.proto.delegate.v1.HandshakeRequest;
import dev.tether.proto.delegate.v1.HandshakeResponse;
import dev.tether.proto.delegate.v1.Prove;
import dev.tether.proto.delegate.v1.Register;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.stub.StreamObserver;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class HandshakeTest {

  @TempDir Path dataDir;
  private ManagerFixture fixture;
  private CreatedAccount account;
  private DelegateToken token;

  @BeforeEach
  void start() {
    fixture = new ManagerFixture(dataDir,
        // short enough for the deadline test, long enough that a pause of a loaded machine does
        // not end the other tests' handshakes
        ManagerSettings.defaults().withHandshakeTimeout(Duration.ofSeconds(2)));
    account = fixture.account("acme");
    token = account.defaultToken().value();
  }

  @AfterEach
  void stop() {
    fixture.close();
  }

  @Test
  void handshake_succeedsAndTheSessionOpensAStream() throws Exception {
    EstablishedSession session = fixture.handshake(account.account().id(), token, "builder-1");

    assertThat(session.heartbeatInterval()).isEqualTo(Duration.ofSeconds(10));
    assertThat(session.tokenPublicId()).isEqualTo(token.publicId());
    StreamClient client = StreamClient.open(fixture.channel(), session, register("builder-1"));
    assertThat(client.registered().get(5, TimeUnit.SECONDS).getDelegateId()).startsWith("dlg_");
  }

  @Test
  void handshake_arrivingWhileTheManagerStops_isRefusedAsUnavailable() {
    // the gRPC server still takes calls (they race its GOAWAY in production); the manager is closed
    fixture.manager().close();

    assertThatThrownBy(() -> fixture.handshake(account.account().id(), token, "late"))
        .isInstanceOfSatisfying(HandshakeException.class,
            e -> assertThat(e.kind()).isEqualTo(HandshakeException.Kind.TRANSIENT))
        .hasMessageContaining("manager shutting down");
  }

  @Test
  void aStreamWhoseDelegateHasNotRegisteredYet_isClosedByAStopToo() throws Exception {
    EstablishedSession session = fixture.handshake(account.account().id(), token, "slow-1");
    CompletableFuture<Status> ended = new CompletableFuture<>();
    // the stream is open and authenticated; its Register has not come yet
    DelegateStreamGrpc.newStub(fixture.channel()).withCallCredentials(new SessionCredentials(session))
        .connect(EndStatus.<ManagerMessage>into(ended));
    await().atMost(Duration.ofSeconds(30)).until(() -> fixture.manager().registry().liveCount() == 1);

    fixture.manager().close();

    Status status = ended.get(30, TimeUnit.SECONDS);
    assertThat(status.getCode()).isEqualTo(Status.Code.UNAVAILABLE);
    assertThat(status.getDescription()).isEqualTo("manager shutting down");
  }

  @Test
  void handshake_refusesAManagerThatDoesNotKnowTheToken() {
    DelegateToken unknown = TokenLedger.record(DelegateToken.generate());

    assertThatThrownBy(() -> fixture.handshake(account.account().id(), unknown, "d"))
        .isInstanceOfSatisfying(HandshakeException.class,
            e -> assertThat(e.kind()).isEqualTo(HandshakeException.Kind.MANAGER_NOT_TRUSTED));
  }

  @Test
  void handshake_refusesATokenPresentedForAnotherAccount() {
    CreatedAccount other = fixture.account("other");

    assertThatThrownBy(() -> fixture.handshake(other.account().id(), token, "d"))
        .isInstanceOfSatisfying(HandshakeException.class,
            e -> assertThat(e.kind()).isEqualTo(HandshakeException.Kind.MANAGER_NOT_TRUSTED));
  }

  @Test
  void handshake_rejectsARevokedTokenAfterTheManagerProvedItself() {
    fixture.manager().tokens().revoke(account.account().id(), "default", "test");

    assertThatThrownBy(() -> fixture.handshake(account.account().id(), token, "d"))
        .isInstanceOfSatisfying(HandshakeException.class,
            e -> assertThat(e.kind()).isEqualTo(HandshakeException.Kind.TOKEN_REJECTED));
  }

  @Test
  void handshake_failuresLookTheSameOnTheWire() throws Exception {
    String accountId = account.account().id();
    fixture.token(accountId, "to-revoke");
    DelegateToken revoked = fixture.token(accountId, "revoked").value();
    fixture.manager().tokens().revoke(accountId, "revoked", "test");
    DelegateToken stranger = TokenLedger.record(DelegateToken.generate());

    List<Status> refusals = new ArrayList<>();
    // unknown account
    refusals.add(rawHandshake(Begin.newBuilder(begin("no-such-account", token)).build(), token, false).status);
    // unknown token id
    refusals.add(rawHandshake(begin(accountId, stranger), stranger, false).status);
    // revoked token with a correct proof
    refusals.add(rawHandshake(begin(accountId, revoked), revoked, false).status);
    // the right token id with a proof made from another token
    refusals.add(rawHandshake(begin(accountId, token), stranger, false).status);
    // a correct proof with one bit flipped
    refusals.add(rawHandshake(begin(accountId, token), token, true).status);

    assertThat(refusals).allSatisfy(status -> {
      assertThat(status.getCode()).isEqualTo(Status.Code.UNAUTHENTICATED);
      assertThat(status.getDescription()).isEqualTo("delegate authentication failed");
    });
  }

  @Test
  void handshake_rejectsAReplayedHandshake() throws Exception {
    RawHandshake.Exchange recorded = rawHandshake(begin(account.account().id(), token), token, false);
    assertThat(recorded.status.isOk()).isTrue();
    assertThat(recorded.accepted).isTrue();

    // replay both recorded messages verbatim on a new call: the manager's nonce is fresh
    RawHandshake.Exchange replay = replay(recorded.sent);

    assertThat(replay.accepted).isFalse();
    assertThat(replay.status.getCode()).isEqualTo(Status.Code.UNAUTHENTICATED);
  }

  @Test
  void handshake_isDroppedWhenNotFinishedBeforeTheDeadline() throws Exception {
    BlockingQueue<Object> events = new LinkedBlockingQueue<>();
    StreamObserver<HandshakeRequest> requests = DelegateAuthGrpc.newStub(fixture.channel())
        .handshake(collector(events));
    requests.onNext(HandshakeRequest.newBuilder().setBegin(begin(account.account().id(), token)).build());

    assertThat(events.poll(10, TimeUnit.SECONDS)).isInstanceOf(HandshakeResponse.class);
    Object end = events.poll(10, TimeUnit.SECONDS);
    assertThat(end).isInstanceOf(Status.class);
    assertThat(((Status) end).getCode()).isEqualTo(Status.Code.DEADLINE_EXCEEDED);
  }

  /**
   * Found by the attacker's review: an impostor that answered Begin with UNAUTHENTICATED made the
   * delegate report its token rejected and exit 78, or, with a token file, stop for good waiting
   * for a new token. Before the manager has proved itself, no status is believed: it is retried.
   */
  @Test
  void aRefusalBeforeTheManagerProvedItself_isRetriedNotTakenAsATokenRejection() throws Exception {
    for (Status refusal : List.of(Status.UNAUTHENTICATED.withDescription("delegate authentication failed"),
        Status.PERMISSION_DENIED, Status.FAILED_PRECONDITION.withDescription("unsupported protocol version"))) {
      String name = "impostor-" + System.nanoTime();
      Server impostor = InProcessServerBuilder.forName(name).addService(new DelegateAuthGrpc.DelegateAuthImplBase() {
        @Override
        public StreamObserver<HandshakeRequest> handshake(StreamObserver<HandshakeResponse> out) {
          return new StreamObserver<>() {
            @Override
            public void onNext(HandshakeRequest request) {
              out.onError(refusal.asRuntimeException());
            }

            @Override
            public void onError(Throwable t) { }

            @Override
            public void onCompleted() { }
          };
        }
      }).build().start();
      ManagedChannel channel = InProcessChannelBuilder.forName(name).build();
      try {
        assertThatThrownBy(() -> new HandshakeClient(Duration.ofSeconds(5))
            .handshake(channel, account.account().id(), token, "d"))
            .isInstanceOfSatisfying(HandshakeException.class, e -> {
              assertThat(e.kind()).as("after %s", refusal.getCode()).isEqualTo(HandshakeException.Kind.TRANSIENT);
              assertThat(e.getMessage()).contains("before proving that it knows the token");
            });
      } finally {
        channel.shutdownNow();
        impostor.shutdownNow();
      }
    }
  }

  @Test
  void delegate_sendsNoProofToAManagerThatFailsToProveItself() throws Exception {
    AtomicBoolean proofReceived = new AtomicBoolean();
    CountDownLatch ended = new CountDownLatch(1);
    String name = "impostor-" + System.nanoTime();
    Server impostor = InProcessServerBuilder.forName(name).addService(new DelegateAuthGrpc.DelegateAuthImplBase() {
      @Override
      public StreamObserver<HandshakeRequest> handshake(StreamObserver<HandshakeResponse> out) {
        return new StreamObserver<>() {
          @Override
          public void onNext(HandshakeRequest request) {
            if (request.hasProve()) {
              proofReceived.set(true);
              return;
            }
            out.onNext(HandshakeResponse.newBuilder().setChallenge(Challenge.newBuilder()
                .setServerNonce(ByteString.copyFrom(HandshakeCrypto.randomBytes(32)))
                .setServerProof(ByteString.copyFrom(HandshakeCrypto.randomBytes(32)))).build());
          }

          @Override
          public void onError(Throwable t) {
            ended.countDown();
          }

          @Override
          public void onCompleted() {
            ended.countDown();
          }
        };
      }
    }).build().start();
    ManagedChannel channel = InProcessChannelBuilder.forName(name).build();
    try {
      assertThatThrownBy(() -> new HandshakeClient(Duration.ofSeconds(5))
          .handshake(channel, account.account().id(), token, "d"))
          .isInstanceOfSatisfying(HandshakeException.class,
              e -> assertThat(e.kind()).isEqualTo(HandshakeException.Kind.MANAGER_NOT_TRUSTED));
      assertThat(ended.await(5, TimeUnit.SECONDS)).isTrue();
      assertThat(proofReceived).isFalse();
    } finally {
      channel.shutdownNow();
      impostor.shutdownNow();
    }
  }

  @Test
  void handshake_rejectsMalformedBeginWithAClearStatus() throws Exception {
    Begin shortNonce = Begin.newBuilder(begin(account.account().id(), token))
        .setClientNonce(ByteString.copyFrom(new byte[5])).build();
    RawHandshake.Exchange exchange = rawHandshake(shortNonce, token, false);
    assertThat(exchange.status.getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
    assertThat(exchange.status.getDescription()).contains("client_nonce must be 32 bytes");

    Begin future = Begin.newBuilder(begin(account.account().id(), token)).setProtocolVersion(9).build();
    RawHandshake.Exchange versioned = rawHandshake(future, token, false);
    assertThat(versioned.status.getCode()).isEqualTo(Status.Code.FAILED_PRECONDITION);
    assertThat(versioned.status.getDescription()).contains("unsupported protocol version 9");

    // protocol_version is a uint32: the largest one is shown as it was sent, not as -1
    Begin largest = Begin.newBuilder(begin(account.account().id(), token)).setProtocolVersion(-1).build();
    assertThat(rawHandshake(largest, token, false).status.getDescription())
        .contains("unsupported protocol version 4294967295");
  }

  private static Register register(String name) {
    return Register.newBuilder().setHostname(name + "-host").setDelegateType("SHELL_SCRIPT")
        .setVersion("test").setIp("127.0.0.1").build();
  }

  private static Begin begin(String accountId, DelegateToken token) {
    return RawHandshake.begin(accountId, token.publicId());
  }

  private RawHandshake.Exchange rawHandshake(Begin begin, DelegateToken proofToken, boolean flipBit) throws Exception {
    return RawHandshake.run(fixture.channel(), begin, proofToken, flipBit);
  }

  private RawHandshake.Exchange replay(List<HandshakeRequest> messages) throws Exception {
    return RawHandshake.replay(fixture.channel(), messages);
  }

  private static StreamObserver<HandshakeResponse> collector(BlockingQueue<Object> events) {
    return RawHandshake.collector(events);
  }
}
