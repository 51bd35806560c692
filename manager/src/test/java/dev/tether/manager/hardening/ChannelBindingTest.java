package dev.tether.manager.hardening;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.tether.common.testing.Relay;
import dev.tether.common.testing.TokenLedger;
import dev.tether.common.token.DelegateToken;
import dev.tether.delegate.config.ManagerEndpoint;
import dev.tether.delegate.connect.Channels;
import dev.tether.delegate.connect.EstablishedSession;
import dev.tether.delegate.connect.ForgedCredentials;
import dev.tether.delegate.connect.HandshakeClient;
import dev.tether.delegate.connect.SessionCredentials;
import dev.tether.delegate.connect.StreamClient;
import dev.tether.manager.auth.DelegateSessionInterceptor;
import dev.tether.manager.server.ManagerSettings;
import dev.tether.manager.tls.TlsMaterial;
import dev.tether.manager.token.CreatedAccount;
import dev.tether.proto.delegate.v1.Register;
import io.grpc.ConnectivityState;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.slf4j.LoggerFactory;

/**
 * The attack of the second security review, with a real relay in front of a real TLS manager: the
 * relay lets the handshake through untouched, then resets the connection and terminates TLS with
 * its own certificate for the next one, hoping the delegate carries its session over. The delegate
 * refuses to use the session there; and a delegate that did not (one written without the pin) is
 * refused by the manager, whichever channel binding its MAC covers.
 */
class ChannelBindingTest {

  private static final int HEADERS = 1;

  @TempDir Path dataDir;
  @TempDir Path relayDir;

  private NettyManager manager;
  private Relay relay;
  private String accountId;
  private DelegateToken token;
  private ListAppender<ILoggingEvent> refusals;

  @BeforeEach
  void start() throws Exception {
    manager = new NettyManager(dataDir, ManagerSettings.defaults());
    CreatedAccount account = manager.server.manager().tokens().createAccount("acme", "test");
    accountId = account.account().id();
    token = TokenLedger.record(account.defaultToken().value());
    TlsMaterial own = TlsMaterial.loadOrGenerate(relayDir, List.of());
    relay = new Relay(Relay.Mode.PASS_THROUGH, manager.port(), own.certificate(), own.privateKey());
    refusals = new ListAppender<>();
    refusals.start();
    ((Logger) LoggerFactory.getLogger(DelegateSessionInterceptor.class)).addAppender(refusals);
  }

  @AfterEach
  void stop() throws Exception {
    ((Logger) LoggerFactory.getLogger(DelegateSessionInterceptor.class)).detachAppender(refusals);
    relay.close();
    manager.close();
  }

  /** A channel as the delegate makes it: TLS without a CA file, to the relay. */
  private ManagedChannel delegateChannel() {
    return Channels.open(new ManagerEndpoint("127.0.0.1", relay.port(), true), null);
  }

  private EstablishedSession handshakeThroughThePassThroughRelay(ManagedChannel channel) throws Exception {
    Channels.connectNow(channel, Duration.ofSeconds(10));
    return new HandshakeClient(Duration.ofSeconds(10)).handshake(channel, accountId, token, "builder-1");
  }

  /** The attacker's move between the handshake and the stream. */
  private void resetAndTerminateFromNowOn(ManagedChannel channel) {
    relay.switchTo(Relay.Mode.TERMINATE_TLS);
    relay.resetAll();
    await().atMost(Duration.ofSeconds(10)).until(() -> channel.getState(false) != ConnectivityState.READY);
  }

  private static Register register() {
    return Register.newBuilder().setHostname("builder-host").build();
  }

  private void assertTheManagerAcceptedNothing() {
    assertThat(manager.server.manager().registry().liveCount()).as("live delegate streams on the manager").isZero();
    assertThat(manager.server.manager().store().listDelegates(null)).as("delegates the manager registered").isEmpty();
  }

  @Test
  void passThroughRelay_isTheControl_theDelegateConnectsThroughIt() throws Exception {
    ManagedChannel channel = delegateChannel();
    EstablishedSession session = handshakeThroughThePassThroughRelay(channel);
    StreamClient stream = StreamClient.open(channel, session, register());
    assertThat(stream.registered().get(10, TimeUnit.SECONDS).getDelegateId()).isNotEmpty();
    stream.close();
    channel.shutdownNow();
  }

  /**
   * Found by the second security review (seen 7 times in 7 against the released code): the
   * delegate sent its session metadata, Register and heartbeats through the relay in the clear,
   * and the relay kept the stream alive after the delegate died.
   */
  @Test
  void relayThatTerminatesTlsAfterTheHandshake_getsNoSessionMetadataAndTheManagerAcceptsNothing() throws Exception {
    ManagedChannel channel = delegateChannel();
    EstablishedSession session = handshakeThroughThePassThroughRelay(channel);
    resetAndTerminateFromNowOn(channel);

    StreamClient stream = StreamClient.open(channel, session, register());

    Status ended = stream.closed().get(20, TimeUnit.SECONDS);
    assertThat(ended.getCode()).isEqualTo(Status.Code.UNAUTHENTICATED);
    assertThat(ended.getDescription()).isEqualTo(SessionCredentials.CERTIFICATE_CHANGED);
    assertThat(relay.terminatedConnections()).as("the delegate did reach the terminating relay").isPositive();
    assertThat(relay.clientFrameTypes()).as("HTTP/2 frames the relay read in the clear").doesNotContain(HEADERS);
    assertTheManagerAcceptedNothing();
    channel.shutdownNow();
  }

  @ParameterizedTest
  @EnumSource(ForgedCredentials.Binding.class)
  void aDelegateWithoutThePin_isRefusedByTheManagerWhicheverBindingItsMacCovers(ForgedCredentials.Binding binding)
      throws Exception {
    ManagedChannel channel = delegateChannel();
    EstablishedSession session = handshakeThroughThePassThroughRelay(channel);
    resetAndTerminateFromNowOn(channel);

    StreamClient stream = StreamClient.open(channel, new ForgedCredentials(session, binding, 1), register());

    Status ended = stream.closed().get(20, TimeUnit.SECONDS);
    assertThat(ended.getCode()).isEqualTo(Status.Code.UNAUTHENTICATED);
    assertThat(ended.getDescription()).isEqualTo("delegate authentication failed");
    assertThat(relay.clientFrameTypes()).as("this delegate did send its call through the relay").contains(HEADERS);
    assertTheManagerAcceptedNothing();
    // the MAC over the relay's certificate fails; a MAC over the proven certificate passes, but the
    // session was proven on another connection than the relay's own to the manager
    String reason = binding == ForgedCredentials.Binding.OF_THIS_CONNECTION ? "bad call MAC" : "used on another connection";
    await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(refusals.list)
        .anySatisfy(e -> assertThat(e.getFormattedMessage()).contains(reason)));
    channel.shutdownNow();
  }

  @Test
  void aSessionUsedOnAnotherConnectionToTheRealManager_isRefused() throws Exception {
    ManagedChannel first = manager.channelFrom("127.0.0.1");
    ManagedChannel second = manager.channelFrom("127.0.0.1");
    EstablishedSession session = new HandshakeClient(Duration.ofSeconds(10)).handshake(first, accountId, token, "b");

    StreamClient stream = StreamClient.open(second, session, register());

    Status ended = stream.closed().get(20, TimeUnit.SECONDS);
    assertThat(ended.getDescription()).isEqualTo("delegate authentication failed");
    assertTheManagerAcceptedNothing();
    assertThat(refusals.list).anySatisfy(e -> assertThat(e.getFormattedMessage()).contains("used on another connection"));
    first.shutdownNow();
    second.shutdownNow();
  }

  /**
   * Found by the attacker's review: the session was bound to the pair of addresses, so a new
   * connection from the same source address and port, made after the first one closed, could use
   * it. Every connection now has a number of its own.
   */
  @Test
  void aSessionUsedOnANewConnectionFromTheSameAddressAndPort_isRefused() throws Exception {
    int port;
    try (java.net.ServerSocket free = new java.net.ServerSocket(0, 1, java.net.InetAddress.getByName("127.0.0.7"))) {
      port = free.getLocalPort();
    }
    ManagedChannel first = fromFixedPort(port);
    EstablishedSession session = new HandshakeClient(Duration.ofSeconds(10)).handshake(first, accountId, token, "b");
    first.shutdownNow();
    assertThat(first.awaitTermination(10, TimeUnit.SECONDS)).isTrue();
    ManagedChannel second = fromFixedPort(port);

    StreamClient stream = StreamClient.open(second, session, register());

    assertThat(stream.closed().get(20, TimeUnit.SECONDS).getDescription()).isEqualTo("delegate authentication failed");
    assertTheManagerAcceptedNothing();
    second.shutdownNow();
  }

  private ManagedChannel fromFixedPort(int port) throws Exception {
    return io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder.forAddress("127.0.0.1", manager.port(),
            io.grpc.TlsChannelCredentials.newBuilder().trustManager(dataDir.resolve("tls/manager.crt").toFile()).build())
        .withOption(io.grpc.netty.shaded.io.netty.channel.ChannelOption.SO_REUSEADDR, true)
        .localSocketPicker(new io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder.LocalSocketPicker() {
          @Override
          public java.net.SocketAddress createSocketAddress(java.net.SocketAddress remote, io.grpc.Attributes attrs) {
            return new java.net.InetSocketAddress("127.0.0.7", port);
          }
        })
        .build();
  }

  /** Found by the second security review: 1 500 streams on one session made 1 500 delegate rows. */
  @Test
  void aSessionCarriesOneStream() throws Exception {
    ManagedChannel channel = manager.channelFrom("127.0.0.1");
    EstablishedSession session = new HandshakeClient(Duration.ofSeconds(10)).handshake(channel, accountId, token, "b");
    StreamClient first = StreamClient.open(channel, new ForgedCredentials(session, ForgedCredentials.Binding.OF_THIS_CONNECTION, 1),
        register());
    first.registered().get(10, TimeUnit.SECONDS);

    StreamClient second = StreamClient.open(channel,
        new ForgedCredentials(session, ForgedCredentials.Binding.OF_THIS_CONNECTION, 2),
        Register.newBuilder().setHostname("another-host").build());

    assertThat(second.closed().get(20, TimeUnit.SECONDS).getDescription()).isEqualTo("delegate authentication failed");
    assertThat(manager.server.manager().store().listDelegates(null)).hasSize(1);
    long seq = first.heartbeat();
    await().atMost(Duration.ofSeconds(10)).until(() -> first.lastAckSequence() >= seq);
    first.close();
    channel.shutdownNow();
  }

  /** Found by the attacker's review: "+1" and "01" were taken for 1; the specification allows one text per number. */
  @Test
  void aSequenceNumberWithASignOrALeadingZero_isRefused() throws Exception {
    for (String text : new String[] {"+1", "01", " 1", "1e0"}) {
      ManagedChannel channel = manager.channelFrom("127.0.0.1");
      EstablishedSession session = new HandshakeClient(Duration.ofSeconds(10)).handshake(channel, accountId, token, "b");
      StreamClient stream = StreamClient.open(channel,
          new ForgedCredentials(session, ForgedCredentials.Binding.OF_THIS_CONNECTION, 1, text), register());
      assertThat(stream.closed().get(20, TimeUnit.SECONDS).getDescription()).as("sequence '%s'", text)
          .isEqualTo("delegate authentication failed");
      channel.shutdownNow();
    }
    assertTheManagerAcceptedNothing();
  }

  /** Found by the second security review: the specification allows any unsigned 64-bit sequence; 2^64 - 1 was refused. */
  @Test
  void aSequenceNumberAboveTheSignedRange_isAccepted() throws Exception {
    ManagedChannel channel = manager.channelFrom("127.0.0.1");
    EstablishedSession session = new HandshakeClient(Duration.ofSeconds(10)).handshake(channel, accountId, token, "b");
    long twoTo64Minus1 = -1L;

    StreamClient stream = StreamClient.open(channel,
        new ForgedCredentials(session, ForgedCredentials.Binding.OF_THIS_CONNECTION, twoTo64Minus1), register());

    assertThat(stream.registered().get(10, TimeUnit.SECONDS).getDelegateId()).isNotEmpty();
    stream.close();
    channel.shutdownNow();
  }
}
