package dev.tether.delegate.agent;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.AppenderBase;
import dev.tether.common.handshake.WireText;
import dev.tether.common.testing.TokenLedger;
import dev.tether.common.token.DelegateToken;
import dev.tether.delegate.config.DelegateConfig;
import dev.tether.delegate.config.ManagerEndpoint;
import dev.tether.delegate.config.TokenSource;
import dev.tether.delegate.connect.Backoff;
import dev.tether.delegate.connect.Channels;
import dev.tether.delegate.testing.FakeManager;
import io.grpc.Metadata;
import io.grpc.Status;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/**
 * What the delegate tells a newcomer (Tether issue 13, section 4): each case runs the real agent
 * against a fake manager on a loopback port, or against a port where nothing listens.
 */
class DelegateAgentMessagesTest {

  private static final String ACCOUNT = "abcdefghijklmnop";
  private final DelegateToken token = TokenLedger.record(DelegateToken.generate());
  private final Logger agentLog = (Logger) LoggerFactory.getLogger(DelegateAgent.class);
  private final Events events = new Events();
  private Level levelBefore;

  @BeforeEach
  void captureLogs() {
    levelBefore = agentLog.getLevel();
    agentLog.setLevel(Level.DEBUG);
    events.setContext(agentLog.getLoggerContext());
    events.start();
    agentLog.addAppender(events);
  }

  @AfterEach
  void releaseLogs() {
    agentLog.detachAppender(events);
    events.stop();
    agentLog.setLevel(levelBefore);
  }

  private DelegateAgent agent(String accountId, ManagerEndpoint endpoint) {
    DelegateConfig config = new DelegateConfig(accountId, new TokenSource.Fixed("DELEGATE_TOKEN", token),
        List.of(endpoint), "builder-1", "SHELL_SCRIPT", List.of(), null, null, List.of());
    return new DelegateAgent(config, "test", e -> Channels.open(e, null),
        new Backoff(Duration.ofMillis(1), Duration.ofMillis(20)), Duration.ofMillis(200));
  }

  private static CompletableFuture<Outcome> run(DelegateAgent agent) {
    CompletableFuture<Outcome> outcome = new CompletableFuture<>();
    Thread thread = new Thread(() -> outcome.complete(agent.run()), "agent-under-test");
    thread.setDaemon(true);
    thread.start();
    return outcome;
  }

  private static int closedPort() throws Exception {
    try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return socket.getLocalPort();
    }
  }

  @Test
  void wrongAccountIdOrToken_exitsOneAndSuggestsCheckingTheAccountIdAndTokenFirst() throws Exception {
    try (FakeManager manager = FakeManager.decoy()) {
      Outcome outcome = run(agent("acme", manager.endpoint())).get(20, TimeUnit.SECONDS);

      assertThat(outcome.exitCode()).isEqualTo(Outcome.FATAL);
      String publicId = token.credential("acme").publicId();
      assertThat(outcome.message()).isEqualTo("refusing manager " + manager.endpoint() + ": it could not prove"
          + " that it knows token " + publicId + " (from DELEGATE_TOKEN) for account 'acme'. Check, most likely"
          + " first: (1) that ACCOUNT_ID is"
          + " the id of the account the token belongs to, and that the token still exists ('tether-manager account"
          + " list' shows account ids, 'tether-manager token list --account ID' its tokens); 'acme' does not look"
          + " like an account id Tether generates (16 lowercase letters and digits 2 to 7): is it the account's"
          + " name?; (2) that MANAGER_HOST_AND_PORT names the manager that issued the token; (3) that no man in the"
          + " middle, such as a proxy or relay terminating TLS with its own certificate, stands between the"
          + " delegate and the manager");
    }
    try (FakeManager manager = FakeManager.decoy()) {
      // an id of the generated shape: no hint that it may be a name
      Outcome outcome = run(agent(ACCOUNT, manager.endpoint())).get(20, TimeUnit.SECONDS);
      assertThat(outcome.message()).contains("(1) that ACCOUNT_ID is the id of the account")
          .doesNotContain("is it the account's name");
    }
  }

  @Test
  void managerDown_saysConnectionRefusedOnceAtWarnWhileItRetries() throws Exception {
    int port = closedPort();
    DelegateAgent agent = agent(ACCOUNT, new ManagerEndpoint("127.0.0.1", port, true));
    CompletableFuture<Outcome> outcome = run(agent);
    String refused = "connection refused at 127.0.0.1:" + port
        + " (is the manager running, and is MANAGER_HOST_AND_PORT right?)";

    List<ILoggingEvent> attempts = events.await(4, e -> e.getFormattedMessage().contains(refused));
    agent.stop();
    outcome.get(20, TimeUnit.SECONDS);

    assertThat(attempts.get(0).getLevel()).isEqualTo(Level.WARN);
    assertThat(attempts.get(0).getFormattedMessage()).startsWith(refused + "; retrying in ");
    assertThat(attempts.subList(1, 4)).allSatisfy(e -> assertThat(e.getLevel()).isEqualTo(Level.DEBUG));
    assertThat(events.all()).noneMatch(e -> e.getFormattedMessage().contains("io exception"));
  }

  @Test
  void unknownHost_saysTheNameDoesNotResolve() throws Exception {
    DelegateAgent agent = agent(ACCOUNT, new ManagerEndpoint("no-such-manager.invalid", 7443, true));
    CompletableFuture<Outcome> outcome = run(agent);

    ILoggingEvent warning = events.await(1, e -> e.getLevel() == Level.WARN).get(0);
    agent.stop();
    outcome.get(20, TimeUnit.SECONDS);

    assertThat(warning.getFormattedMessage()).startsWith("cannot resolve the manager's host name"
        + " 'no-such-manager.invalid' (is the host name in MANAGER_HOST_AND_PORT right, and is DNS reachable from"
        + " here?); retrying in ");
  }

  @Test
  void sigtermBeforeItEverConnected_doesNotClaimAGoodbye() throws Exception {
    DelegateAgent agent = agent(ACCOUNT, new ManagerEndpoint("127.0.0.1", closedPort(), true));
    CompletableFuture<Outcome> outcome = run(agent);
    events.await(1, e -> e.getLevel() == Level.WARN);

    agent.stop();

    assertThat(outcome.get(20, TimeUnit.SECONDS))
        .isEqualTo(new Outcome(Outcome.STOPPED, "stopped by SIGTERM before it connected to the manager"));

    // the control: connected, it says goodbye and says so
    try (FakeManager manager = FakeManager.knowing(token)) {
      DelegateAgent connected = agent(ACCOUNT, manager.endpoint());
      CompletableFuture<Outcome> ended = run(connected);
      manager.registered().get(20, TimeUnit.SECONDS);
      events.await(1, e -> e.getFormattedMessage().startsWith("connected to "));

      connected.stop();

      assertThat(ended.get(20, TimeUnit.SECONDS))
          .isEqualTo(new Outcome(Outcome.STOPPED, "stopped by SIGTERM; said goodbye to the manager"));
      assertThat(manager.goodbye().get(10, TimeUnit.SECONDS)).isEqualTo("delegate stopping (SIGTERM)");
    }

    // connected once, then the manager went away: no goodbye either, and it says why
    DelegateAgent reconnecting;
    CompletableFuture<Outcome> ended;
    Predicate<ILoggingEvent> refused = e -> e.getFormattedMessage().startsWith("connection refused at ");
    long refusedBefore = events.all().stream().filter(refused).count();
    try (FakeManager manager = FakeManager.knowing(token)) {
      reconnecting = agent(ACCOUNT, manager.endpoint());
      ended = run(reconnecting);
      manager.registered().get(20, TimeUnit.SECONDS);
    }
    events.await((int) refusedBefore + 1, refused);

    reconnecting.stop();

    assertThat(ended.get(20, TimeUnit.SECONDS)).isEqualTo(new Outcome(Outcome.STOPPED, "stopped by SIGTERM while"
        + " reconnecting (no stream to say goodbye on; the manager shows the delegate disconnected when it misses"
        + " its heartbeats)"));
  }

  /**
   * A SIGTERM's goodbye half-closes the stream; the manager ends it at once, and the agent's loop can
   * get there before the thread of the stop has heard back from its own send. The exit line must
   * still say the goodbye went out (it said "while reconnecting" once in CI). Here the thread of the
   * stop is held just after its half-close until the agent has ended, or for 2 s.
   */
  @Test
  void sigtermWhoseGoodbyeIsStillReturning_whenTheStreamEnds_saysItSaidGoodbye() throws Exception {
    CompletableFuture<Outcome> ended = new CompletableFuture<>();
    java.util.concurrent.atomic.AtomicBoolean holdHalfClose = new java.util.concurrent.atomic.AtomicBoolean();
    io.grpc.ClientInterceptor holdAfterHalfClose = new io.grpc.ClientInterceptor() {
      @Override
      public <Q, A> io.grpc.ClientCall<Q, A> interceptCall(io.grpc.MethodDescriptor<Q, A> method,
          io.grpc.CallOptions options, io.grpc.Channel next) {
        return new io.grpc.ForwardingClientCall.SimpleForwardingClientCall<>(next.newCall(method, options)) {
          @Override
          public void halfClose() {
            super.halfClose();
            if (method.getType() == io.grpc.MethodDescriptor.MethodType.BIDI_STREAMING && holdHalfClose.get()) {
              try {
                ended.get(2, TimeUnit.SECONDS);
              } catch (Exception stillRunning) {
                // the fixed agent waits for this thread: let it go on
              }
            }
          }
        };
      }
    };
    try (FakeManager manager = FakeManager.knowing(token)) {
      DelegateConfig config = new DelegateConfig(ACCOUNT, new TokenSource.Fixed("DELEGATE_TOKEN", token),
          List.of(manager.endpoint()), "builder-1", "SHELL_SCRIPT", List.of(), null, null, List.of());
      DelegateAgent agent = new DelegateAgent(config, "test",
          e -> io.grpc.okhttp.OkHttpChannelBuilder.forAddress(e.host(), e.port()).usePlaintext()
              .intercept(holdAfterHalfClose).build(),
          new Backoff(Duration.ofMillis(1), Duration.ofMillis(20)), Duration.ofMillis(200));
      run(agent).whenComplete((outcome, failure) -> {
        if (failure != null) {
          ended.completeExceptionally(failure);
        } else {
          ended.complete(outcome);
        }
      });
      manager.registered().get(20, TimeUnit.SECONDS);
      events.await(1, e -> e.getFormattedMessage().startsWith("connected to "));

      holdHalfClose.set(true);
      agent.stop();

      assertThat(manager.goodbye().get(10, TimeUnit.SECONDS)).isEqualTo("delegate stopping (SIGTERM)");
      assertThat(ended.get(20, TimeUnit.SECONDS))
          .isEqualTo(new Outcome(Outcome.STOPPED, "stopped by SIGTERM; said goodbye to the manager"));
    }
  }

  @Test
  void tokenRevokedAndTokenExpired_areToldApartByTheManagersTrailer() throws Exception {
    String publicId = token.credential(ACCOUNT).publicId();
    String rest = "; no token file to wait on (DELEGATE_TOKEN is fixed): give the delegate a new token and restart it";
    assertThat(endedWith(WireText.TOKEN_STATE_REVOKED))
        .isEqualTo(new Outcome(Outcome.TOKEN_REFUSED, "delegate token " + publicId + " was revoked" + rest));
    assertThat(endedWith(WireText.TOKEN_STATE_EXPIRED))
        .isEqualTo(new Outcome(Outcome.TOKEN_REFUSED, "delegate token " + publicId + " expired" + rest));
    // an older manager sends no trailer
    assertThat(endedWith(null))
        .isEqualTo(new Outcome(Outcome.TOKEN_REFUSED, "delegate token " + publicId + " was revoked or expired" + rest));
  }

  private Outcome endedWith(String tokenState) throws Exception {
    try (FakeManager manager = FakeManager.knowing(token)) {
      CompletableFuture<Outcome> outcome = run(agent(ACCOUNT, manager.endpoint()));
      manager.registered().get(20, TimeUnit.SECONDS);
      Metadata trailers = new Metadata();
      if (tokenState != null) {
        trailers.put(Metadata.Key.of(WireText.TOKEN_STATE_TRAILER, Metadata.ASCII_STRING_MARSHALLER), tokenState);
      }
      manager.closeStream(Status.UNAUTHENTICATED.withDescription(WireText.TOKEN_REVOKED), trailers);
      return outcome.get(20, TimeUnit.SECONDS);
    }
  }

  /**
   * What the agent logs, in order, and a way to wait for it. Only the test thread reads it; its
   * methods hold no monitor, since logback appends while holding the appender's.
   */
  private static final class Events extends AppenderBase<ILoggingEvent> {
    private final BlockingQueue<ILoggingEvent> queue = new LinkedBlockingQueue<>();
    private final List<ILoggingEvent> seen = new ArrayList<>();

    @Override
    protected void append(ILoggingEvent event) {
      queue.add(event);
    }

    /** Waits (at most 30 s) for {@code count} events that match, and returns them. */
    List<ILoggingEvent> await(int count, Predicate<ILoggingEvent> matching) throws InterruptedException {
      List<ILoggingEvent> found = new ArrayList<>(seen.stream().filter(matching).toList());
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      while (found.size() < count) {
        ILoggingEvent event = queue.poll(deadline - System.nanoTime(), TimeUnit.NANOSECONDS);
        if (event == null) {
          throw new AssertionError("only " + found.size() + " of " + count + " expected log lines; logged: "
              + seen.stream().map(ILoggingEvent::getFormattedMessage).toList());
        }
        seen.add(event);
        if (matching.test(event)) {
          found.add(event);
        }
      }
      return found;
    }

    List<ILoggingEvent> all() {
      queue.drainTo(seen);
      return List.copyOf(seen);
    }
  }
}
