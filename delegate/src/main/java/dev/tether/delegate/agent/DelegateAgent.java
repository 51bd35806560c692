package dev.tether.delegate.agent;

import static net.logstash.logback.argument.StructuredArguments.value;

import dev.tether.common.handshake.WireText;
import dev.tether.common.ops.OpsMetrics;
import dev.tether.common.text.UserText;
import dev.tether.common.token.DelegateToken;
import dev.tether.common.token.TokenFormatException;
import dev.tether.delegate.config.ConfigException;
import dev.tether.delegate.config.DelegateConfig;
import dev.tether.delegate.config.ManagerEndpoint;
import dev.tether.delegate.connect.Backoff;
import dev.tether.delegate.connect.Channels;
import dev.tether.delegate.connect.ConnectionTrouble;
import dev.tether.delegate.connect.EstablishedSession;
import dev.tether.delegate.connect.HandshakeClient;
import dev.tether.delegate.connect.HandshakeException;
import dev.tether.delegate.connect.SessionCredentials;
import dev.tether.delegate.connect.StreamClient;
import dev.tether.delegate.ops.DelegateMetrics;
import dev.tether.delegate.rotation.CannotKeepException;
import dev.tether.proto.delegate.v1.Register;
import dev.tether.proto.delegate.v1.RotateToken;
import dev.tether.proto.delegate.v1.RotationResult;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The delegate's life: handshake, hold the stream and heartbeat, reconnect with backoff after
 * network trouble or a manager restart; on revocation stop at once, then wait for a new token in
 * the token file or end with exit code 78; on SIGTERM say goodbye and end with 0. It tells its
 * {@link DelegateMetrics} what happens and, whenever it holds no registered stream, why not.
 */
public final class DelegateAgent {

  private static final Logger log = LoggerFactory.getLogger(DelegateAgent.class);
  static final Duration TOKEN_FILE_POLL = Duration.ofMillis(500);
  static final String REVOKED_DESCRIPTION = WireText.TOKEN_REVOKED;
  /** The shape of the account ids Tether generates: 10 random bytes in lowercase base32. */
  private static final Pattern GENERATED_ACCOUNT_ID = Pattern.compile("[a-z2-7]{16}");

  private final DelegateConfig config;
  private final HandshakeClient handshakes = new HandshakeClient(Duration.ofSeconds(15));
  /** How long an attempt waits for a connection to the manager before it fails with the connection's error. */
  static final Duration CONNECT_WAIT = Duration.ofSeconds(5);
  private final Duration connectWait;
  private final Backoff backoff;
  private final TroubleLog trouble = new TroubleLog(log, System::nanoTime);
  /** The last failed attempt's status and what it means, so that a port is probed once per new failure. */
  private Status lastFailure;
  private String lastExplanation;
  /** Whether the delegate has held a registered stream at least once. */
  private volatile boolean everConnected;
  /** Whether a registered stream ended since the last connection began: the next one is a reconnect. */
  private boolean lostStream;
  /** What the ops listener serves: counters, and whether the delegate is ready or why not. */
  private final DelegateMetrics metrics;
  /** Whether the goodbye of a SIGTERM went out on a registered stream. */
  private volatile boolean saidGoodbye;
  private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
    Thread t = new Thread(r, "tether-delegate-timer");
    t.setDaemon(true);
    return t;
  });
  private final CountDownLatch stopRequested = new CountDownLatch(1);
  /** Counted down once {@link #stop()} has said its goodbye, or found no stream to say it on. */
  private final CountDownLatch stopGoodbyeDone = new CountDownLatch(1);
  private final String version;
  private volatile StreamClient current;
  private final HealthFiles health;
  private final java.util.function.Function<ManagerEndpoint, ManagedChannel> channelFactory;
  private final ManagedChannel[] channels;
  private int endpointIndex;
  private DelegateToken lastToken;
  /** Rotation work (opening a successor, keeping it): off the gRPC and timer threads. */
  private final ExecutorService rotationWork = Executors.newSingleThreadExecutor(r -> {
    Thread t = new Thread(r, "tether-delegate-rotation");
    t.setDaemon(true);
    return t;
  });
  /** A successor kept and not yet proved: the next connection uses it and reports MOVED. */
  private volatile Rotation pending;
  /**
   * The token moved to (or back to) by a rotation, used instead of what the configuration yields
   * while the configuration still yields {@link #replaced}: a YAML value read at start, or a mounted
   * Secret file the kubelet has not refreshed yet.
   */
  private volatile DelegateToken override;
  private volatile DelegateToken replaced;
  /** Rotations this delegate failed to move with, and why: a second RotateToken gets the same answer. */
  private final Map<String, String> failedRotations = new ConcurrentHashMap<>();
  private volatile CompletableFuture<Void> rotationKept = new CompletableFuture<>();

  /** A rotation in progress on this delegate: its id, the successor kept, and the token it replaces. */
  private record Rotation(String id, DelegateToken successor, DelegateToken old) { }

  public DelegateAgent(DelegateConfig config, String version) {
    this(config, version, endpoint -> Channels.open(endpoint, config.caFile()));
  }

  /** With channels of the caller's making (tests use shorter keepalive times). */
  public DelegateAgent(DelegateConfig config, String version,
      java.util.function.Function<ManagerEndpoint, ManagedChannel> channelFactory) {
    this(config, version, channelFactory, new DelegateMetrics(OpsMetrics.registry()));
  }

  /** Measured by {@code metrics}, which the ops listener serves. */
  public DelegateAgent(DelegateConfig config, String version,
      java.util.function.Function<ManagerEndpoint, ManagedChannel> channelFactory, DelegateMetrics metrics) {
    this(config, version, channelFactory, new Backoff(), CONNECT_WAIT, metrics);
  }

  /** With a backoff and a wait for each connection of the caller's choosing (tests retry in milliseconds). */
  DelegateAgent(DelegateConfig config, String version,
      java.util.function.Function<ManagerEndpoint, ManagedChannel> channelFactory, Backoff backoff,
      Duration connectWait) {
    this(config, version, channelFactory, backoff, connectWait, new DelegateMetrics(OpsMetrics.registry()));
  }

  DelegateAgent(DelegateConfig config, String version,
      java.util.function.Function<ManagerEndpoint, ManagedChannel> channelFactory, Backoff backoff,
      Duration connectWait, DelegateMetrics metrics) {
    this.metrics = Objects.requireNonNull(metrics, "metrics");
    this.backoff = backoff;
    this.connectWait = connectWait;
    this.channelFactory = channelFactory;
    this.channels = new ManagedChannel[config.managers().size()];
    // delegates given the same list spread across it, and move on to the next manager when one fails
    this.endpointIndex = java.util.concurrent.ThreadLocalRandom.current().nextInt(config.managers().size());
    this.config = config;
    this.version = version;
    this.health = new HealthFiles(config.healthDir());
  }

  /** Runs until the delegate must end; returns the exit code and the reason. */
  public Outcome run() {
    health.start(timer);
    metrics.notRegistered("connecting to " + endpoint());
    try {
      return loop();
    } finally {
      health.notReady();
      metrics.notRegistered("the delegate is stopping");
      timer.shutdownNow();
      rotationWork.shutdown();
      for (ManagedChannel channel : channels) {
        if (channel != null) {
          channel.shutdownNow();
        }
      }
    }
  }

  private ManagerEndpoint endpoint() {
    return config.managers().get(endpointIndex);
  }

  private ManagedChannel channel() {
    if (channels[endpointIndex] == null) {
      channels[endpointIndex] = channelFactory.apply(endpoint());
    }
    return channels[endpointIndex];
  }

  /** After trouble with one manager, the next attempt goes to the next one in the list. */
  private void failover() {
    if (channels.length > 1) {
      endpointIndex = (endpointIndex + 1) % channels.length;
    }
  }

  /** Asks the agent to stop: say goodbye on the stream and end with exit code 0. */
  public void stop() {
    stopRequested.countDown();
    StreamClient stream = current;
    if (stream != null) {
      try {
        sayGoodbye(stream);
      } finally {
        stopGoodbyeDone.countDown();
      }
      try {
        stream.closed().get(3, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      } catch (ExecutionException | TimeoutException e) {
        log.debug("manager did not confirm the goodbye in time");
      }
    } else {
      stopGoodbyeDone.countDown();
    }
  }

  private boolean stopping() {
    return stopRequested.getCount() == 0;
  }

  private Outcome loop() {
    while (!stopping()) {
      DelegateToken token;
      try {
        token = configuredToken();
      } catch (TokenFormatException | ConfigException e) {
        if (!config.token().reloadable()) {
          return new Outcome(Outcome.TOKEN_REFUSED, e.getMessage());
        }
        metrics.notRegistered(e.getMessage() + "; waiting for " + config.token().describe() + " to change");
        log.error("{}; waiting for {} to change", e.getMessage(), config.token().describe());
        if (!awaitNewToken(null)) {
          break;
        }
        continue;
      }
      // the same value read again: keep the instance that holds its derived credential (a custom
      // token costs one Argon2id evaluation to derive, docs/protocol.md 3.4)
      if (token.equals(lastToken)) {
        token = lastToken;
      } else {
        lastToken = token;
      }
      if (lostStream) {
        lostStream = false;
        metrics.reconnecting();
      }
      Outcome outcome = connectOnce(channel(), token);
      if (outcome != null) {
        return outcome;
      }
    }
    return new Outcome(Outcome.STOPPED, stoppedReason());
  }

  /**
   * The token to connect with: a kept successor not yet proved, else the configuration's, unless a
   * rotation moved away from what the configuration still yields.
   */
  private DelegateToken configuredToken() {
    Rotation kept = pending;
    if (kept != null) {
      return kept.successor();
    }
    DelegateToken configured = config.token().current();
    DelegateToken moved = override;
    if (moved != null) {
      if (configured.equals(replaced)) {
        return moved;
      }
      // the configuration caught up with the rotation, or someone put yet another token there
      override = null;
      replaced = null;
    }
    return configured;
  }

  /**
   * Handles a RotateToken (docs/protocol.md 6.3): opens the successor with this session's key, checks
   * it is the token named, keeps it where the token comes from, and has the connection loop move to
   * it; or answers why not, carrying on with the old token.
   */
  private void rotate(EstablishedSession session, StreamClient stream, DelegateToken token, RotateToken message) {
    String id = message.getRotationId();
    String failed = failedRotations.get(id);
    if (failed != null) {
      stream.rotationResult(id, RotationResult.Outcome.FAILED, failed);
      return;
    }
    if (pending != null) {
      return;
    }
    DelegateToken successor;
    try {
      byte[] value = session.openSuccessor(id, message.getSuccessorTokenId(), message.getSealedSuccessor().toByteArray());
      successor = DelegateToken.parse("the successor token", new String(value, StandardCharsets.UTF_8));
      String publicId = successor.credential(config.accountId()).publicId();
      if (!publicId.equals(message.getSuccessorTokenId())) {
        throw new TokenFormatException("the successor's public id is " + publicId + ", not "
            + UserText.quote(message.getSuccessorTokenId()) + " as the manager said");
      }
    } catch (java.security.GeneralSecurityException e) {
      fail(stream, id, "the successor does not open with this session's key (sealed for another session, or altered)");
      return;
    } catch (TokenFormatException e) {
      fail(stream, id, e.getMessage());
      return;
    }
    log.info("rotation {}: received successor {}; keeping it in {}", id, value("token_id", message.getSuccessorTokenId()),
        config.keeper().describe());
    try {
      config.keeper().keep(successor);
    } catch (CannotKeepException e) {
      log.warn("rotation {}: cannot keep the successor ({}); carrying on with the old token", id, e.getMessage());
      stream.rotationResult(id, RotationResult.Outcome.CANNOT_KEEP, "cannot keep the new token: " + e.getMessage());
      return;
    } catch (RuntimeException e) {
      fail(stream, id, "keeping the successor in " + config.keeper().describe() + " failed: " + e.getMessage());
      return;
    }
    pending = new Rotation(id, successor, token);
    rotationKept.complete(null);
  }

  private void fail(StreamClient stream, String rotationId, String reason) {
    failedRotations.put(rotationId, reason);
    log.warn("rotation {} failed: {}; carrying on with the old token", rotationId, reason);
    stream.rotationResult(rotationId, RotationResult.Outcome.FAILED, reason);
  }

  /** The manager refused the successor just kept: go back to the old token and say why at the next push. */
  private Outcome successorRefused() {
    Rotation refused = pending;
    pending = null;
    override = refused.old();
    replaced = refused.successor();
    failedRotations.put(refused.id(), "the manager refused the successor " + refused.successor()
        .credential(config.accountId()).publicId() + " (revoked meanwhile?); back on the old token");
    log.warn("rotation {}: the manager refused the successor; back on the old token", refused.id());
    // the install holds the refused successor now: put the old token back, so that a restart finds it
    try {
      config.keeper().keep(refused.old());
    } catch (CannotKeepException | RuntimeException e) {
      log.warn("rotation {}: could not put the old token back in {} ({}); it is used from memory until the"
          + " delegate restarts", refused.id(), config.keeper().describe(), e.getMessage());
    }
    pause(null);
    return null;
  }

  /** Says goodbye on {@code stream}, and remembers it when the stream was registered (for the exit line). */
  private void sayGoodbye(StreamClient stream) {
    if (stream.goodbye("delegate stopping (SIGTERM)") && stream.registered().isDone()
        && !stream.registered().isCompletedExceptionally()) {
      saidGoodbye = true;
    }
  }

  /** The exit line of a SIGTERM: it claims a goodbye only when one went out on a registered stream. */
  private String stoppedReason() {
    // the loop can see the stop, and the stream its goodbye ended, before stop() has heard back from
    // sending it: wait for stop() to know (sending is queueing a frame; the bound is for a stuck thread)
    try {
      if (!stopGoodbyeDone.await(5, TimeUnit.SECONDS)) {
        log.debug("the goodbye of the stop did not finish in time");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    if (saidGoodbye) {
      return "stopped by SIGTERM; said goodbye to the manager";
    }
    if (!everConnected) {
      return "stopped by SIGTERM before it connected to the manager";
    }
    return "stopped by SIGTERM while reconnecting (no stream to say goodbye on; the manager shows the delegate"
        + " disconnected when it misses its heartbeats)";
  }

  /** One connection: returns an outcome to end with, or null to go round again. */
  private Outcome connectOnce(ManagedChannel channel, DelegateToken token) {
    // our jittered backoff decides when to try again, not gRPC's own reconnect backoff (1 s growing
    // to 2 min): connect now, and wait for the connection rather than fail on the last one's error
    try {
      Channels.connectNow(channel, connectWait);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return null;
    }
    EstablishedSession session;
    try {
      session = handshakes.handshake(channel, config.accountId(), token, config.delegateName());
      metrics.handshake(DelegateMetrics.Handshake.ACCEPTED);
    } catch (HandshakeException e) {
      metrics.handshake(switch (e.kind()) {
        case TOKEN_REJECTED -> DelegateMetrics.Handshake.REFUSED;
        case MANAGER_NOT_TRUSTED -> DelegateMetrics.Handshake.UNTRUSTED;
        case TRANSIENT -> DelegateMetrics.Handshake.UNAVAILABLE;
        case PROTOCOL -> DelegateMetrics.Handshake.FAILED;
      });
      return switch (e.kind()) {
        // the manager proved that it knows the token, so it is not unknown; before the delegate has
        // proved itself too, the manager does not say which of the two (docs/security.md)
        case TOKEN_REJECTED -> pending != null && pending.successor().equals(token) ? successorRefused()
            : tokenRefused(token, "the manager rejected token "
            + token.credential(config.accountId()).publicId() + ", which it knows: the token was revoked or has"
            + " expired ('tether-manager token list --account " + config.accountId() + "' shows which)");
        case MANAGER_NOT_TRUSTED -> new Outcome(Outcome.FATAL, "refusing manager " + endpoint() + ": "
            + (e.wrongProof() ? notTrusted(token) : e.getMessage()));
        case PROTOCOL -> new Outcome(Outcome.FATAL, e.getMessage());
        case TRANSIENT -> {
          pause(explain(e.status()).orElse("cannot authenticate with " + endpoint() + ": " + e.getMessage()));
          failover();
          yield null;
        }
      };
    }
    StreamClient stream = StreamClient.open(channel, session, register());
    stream.onRoundTrip((sequence, nanos) -> metrics.acknowledged(nanos));
    EstablishedSession established = session;
    stream.onRotateToken(message -> rotationWork.execute(() -> rotate(established, stream, token, message)));
    current = stream;
    try {
      try {
        String id = stream.registered().get(15, TimeUnit.SECONDS).getDelegateId();
        backoff.reset();
        trouble.clear();
        everConnected = true;
        lostStream = true;
        health.ready();
        metrics.registered(session.heartbeatInterval());
        log.info("connected to {} as delegate {} ({}) with token {}; heartbeat every {} ms",
            endpoint(), UserText.quote(config.delegateName()), value("delegate_id", id),
            value("token_id", session.tokenPublicId()), session.heartbeatInterval().toMillis());
        Rotation moved = pending;
        if (moved != null && moved.successor().equals(token)) {
          // proved with the successor and registered: only now is the old value forgotten
          stream.rotationResult(moved.id(), RotationResult.Outcome.MOVED, null);
          override = moved.successor();
          replaced = moved.old();
          pending = null;
          log.info("rotation {}: moved to token {}; the old token is no longer used", moved.id(),
              value("token_id", session.tokenPublicId()));
        }
      } catch (ExecutionException | TimeoutException e) {
        stream.close();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        stream.close();
        return null;
      }
      if (stopping()) {
        sayGoodbye(stream);
        return null;
      }
      long intervalMs = session.heartbeatInterval().toMillis();
      ScheduledFuture<?> heartbeats = timer.scheduleAtFixedRate(() -> {
        if (stream.heartbeat() >= 0) {
          metrics.heartbeatSent();
        }
      }, intervalMs, intervalMs, TimeUnit.MILLISECONDS);
      CompletableFuture<Void> rotated = watchForRotation(token);
      if (pending == null && rotationKept.isDone()) {
        // the rotation it signalled is over (this stream is its move, or its successor was refused)
        rotationKept = new CompletableFuture<>();
      }
      CompletableFuture<Void> kept = rotationKept;
      try {
        CompletableFuture.anyOf(stream.closed(), rotated, kept).join();
      } finally {
        heartbeats.cancel(false);
        rotated.cancel(false);
        health.notReady();
        // what follows may say more: a revoked token, a backoff with its cause
        metrics.notRegistered("the stream to " + endpoint() + " ended");
      }
      if (!stream.closed().isDone() && kept.isDone()) {
        rotationKept = new CompletableFuture<>();
        metrics.notRegistered("reconnecting with the successor token kept in " + config.keeper().describe());
        log.info("the successor token is kept in {}; reconnecting with it", config.keeper().describe());
        stream.goodbye("token rotated");
        waitQuietly(stream.closed());
        return null;
      }
      if (!stream.closed().isDone()) {
        metrics.notRegistered("reconnecting with the new token in " + config.token().describe());
        log.info("{} holds a new token; reconnecting with it", config.token().describe());
        stream.goodbye("token rotated");
        waitQuietly(stream.closed());
        return null;
      }
      return afterClose(stream.closed().join(), stream.tokenState(), token);
    } finally {
      health.notReady();
      current = null;
    }
  }

  private Outcome afterClose(Status status, Optional<String> tokenState, DelegateToken token) {
    if (stopping()) {
      return null;
    }
    if (status.getCode() == Status.Code.UNAUTHENTICATED && REVOKED_DESCRIPTION.equals(status.getDescription())) {
      return tokenRefused(token, "delegate token " + token.credential(config.accountId()).publicId() + " "
          + ended(tokenState));
    }
    if (status.getCode() == Status.Code.UNAUTHENTICATED
        && SessionCredentials.CERTIFICATE_CHANGED.equals(status.getDescription())) {
      metrics.notRegistered(endpoint() + " presented another TLS certificate for the stream than the one the"
          + " handshake proved; authenticating again");
      log.warn("{} presented another TLS certificate for the stream than the one the handshake proved (a"
          + " relay terminating TLS, or a manager restarted with a new certificate); the session was not used"
          + " there. Authenticating again", endpoint());
      pause(null);
      return null;
    }
    if (status.getCode() == Status.Code.UNAUTHENTICATED) {
      metrics.notRegistered("the manager no longer knows this session (restarted?); authenticating again");
      log.info("the manager no longer knows this session (restarted?); authenticating again");
      pause(null);
      return null;
    }
    pause("stream to " + endpoint() + " ended: " + status.getCode()
        + (status.getDescription() == null ? "" : " (" + status.getDescription() + ")"));
    failover();
    return null;
  }

  /** The token is refused: wait for a new one in the token file, or end with 78. */
  private Outcome tokenRefused(DelegateToken token, String why) {
    if (!config.token().reloadable()) {
      return new Outcome(Outcome.TOKEN_REFUSED, why + "; no token file to wait on (" + config.token().describe()
          + " is fixed): give the delegate a new token and restart it");
    }
    metrics.notRegistered(why + "; waiting for " + config.token().describe() + " to hold a new token");
    // the public id is in the text already; the argument beyond the placeholders makes it a JSON field
    log.warn("{}; stopped, waiting for {} to hold a new token", why, config.token().describe(),
        value("token_id", token.credential(config.accountId()).publicId()));
    awaitNewToken(token);
    return null;
  }

  /** Polls the token file until it holds a valid token other than {@code old}; false if stopped. */
  private boolean awaitNewToken(DelegateToken old) {
    while (!stopping()) {
      try {
        DelegateToken now = config.token().current();
        if (!now.equals(old)) {
          // a custom token's id would cost an Argon2id evaluation here; the handshake logs it
          metrics.notRegistered("connecting to " + endpoint() + " with the new token in " + config.token().describe());
          if (now.isGenerated()) {
            log.info("{} holds token {}; connecting with it", config.token().describe(), value("token_id", now.publicId()));
          } else {
            log.info("{} holds token {}; connecting with it", config.token().describe(), "(a custom token)");
          }
          return true;
        }
      } catch (TokenFormatException | ConfigException e) {
        log.debug("token file not usable yet: {}", e.getMessage());
      }
      if (awaitStop(TOKEN_FILE_POLL)) {
        return false;
      }
    }
    return false;
  }

  /** Completes when the token file holds a different valid token (hot reload of a rotated Secret). */
  private CompletableFuture<Void> watchForRotation(DelegateToken token) {
    CompletableFuture<Void> changed = new CompletableFuture<>();
    if (!config.token().reloadable()) {
      return changed;
    }
    ScheduledFuture<?> poll = timer.scheduleWithFixedDelay(() -> {
      try {
        // what the next connection would use: a mounted Secret the kubelet has not refreshed yet
        // still holds the token a rotation moved away from, which is no change
        if (!configuredToken().equals(token)) {
          changed.complete(null);
        }
      } catch (TokenFormatException | ConfigException e) {
        log.debug("token file not usable while connected: {}", e.getMessage());
      }
    }, TOKEN_FILE_POLL.toMillis(), TOKEN_FILE_POLL.toMillis(), TimeUnit.MILLISECONDS);
    changed.whenComplete((v, e) -> poll.cancel(false));
    return changed;
  }

  /** How the manager ended the token, in the words of the exit line. */
  static String ended(Optional<String> tokenState) {
    return switch (tokenState.orElse("")) {
      case WireText.TOKEN_STATE_REVOKED -> "was revoked";
      case WireText.TOKEN_STATE_EXPIRED -> "expired";
      // an older manager says only that the token is no longer valid
      default -> "was revoked or expired";
    };
  }

  /**
   * Why a manager could not prove that it knows the token, most likely cause first. The manager
   * answers an unknown account or token with a decoy proof (docs/protocol.md 4.3), so the delegate
   * cannot tell a wrong account id or a deleted token from another manager or a relay; a newcomer
   * has most likely mistyped the account id or given another account's token.
   */
  private String notTrusted(DelegateToken token) {
    String accountId = config.accountId();
    String shape = GENERATED_ACCOUNT_ID.matcher(accountId).matches() ? ""
        : "; " + UserText.quote(accountId) + " does not look like an account id Tether generates (16 lowercase"
            + " letters and digits 2 to 7): is it the account's name?";
    return "it could not prove that it knows token " + token.credential(accountId).publicId() + " (from "
        + config.token().describe() + ") for account " + UserText.quote(accountId) + ". Check, most likely first:"
        + " (1) that ACCOUNT_ID is the id of the account the token belongs to, and that the token still exists"
        + " ('tether-manager account list' shows account ids, 'tether-manager token list --account ID' its"
        + " tokens)" + shape + "; (2) that MANAGER_HOST_AND_PORT names the manager that issued the token;"
        + " (3) that no man in the middle, such as a proxy or relay terminating TLS with its own certificate,"
        + " stands between the delegate and the manager";
  }

  /** What a failed attempt's status means ({@link ConnectionTrouble}), probing the port once per new failure. */
  private Optional<String> explain(Status status) {
    if (status == null) {
      return Optional.empty();
    }
    if (lastFailure == null || !sameFailure(status, lastFailure)) {
      lastFailure = status;
      lastExplanation = ConnectionTrouble.explain(status, endpoint(), config.caFile() != null).orElse(null);
    }
    return Optional.ofNullable(lastExplanation);
  }

  private static boolean sameFailure(Status a, Status b) {
    return a.getCode() == b.getCode() && Objects.equals(a.getDescription(), b.getDescription())
        && Objects.equals(a.getCause() == null ? null : a.getCause().getClass(),
            b.getCause() == null ? null : b.getCause().getClass());
  }

  private void pause(String why) {
    Duration wait = backoff.next();
    if (why != null) {
      metrics.notRegistered(why);
      trouble.failed(why, wait);
    }
    awaitStop(wait);
  }

  private boolean awaitStop(Duration wait) {
    try {
      return stopRequested.await(wait.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return true;
    }
  }

  private static void waitQuietly(CompletableFuture<?> future) {
    try {
      future.get(3, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (ExecutionException | TimeoutException e) {
      // the next connection starts regardless
    }
  }

  private Register register() {
    String hostname = "unknown";
    String ip = "";
    try {
      InetAddress local = InetAddress.getLocalHost();
      hostname = local.getHostName();
      ip = local.getHostAddress();
    } catch (java.io.IOException e) {
      log.debug("cannot resolve the local host name: {}", e.toString());
    }
    String envHost = System.getenv("HOSTNAME");
    if (envHost != null && !envHost.isBlank()) {
      hostname = envHost.strip();
    }
    return Register.newBuilder()
        .setHostname(UserText.truncate(hostname, 255))
        .setDelegateType(config.delegateType())
        .setVersion(version)
        .addAllTags(config.tags())
        .setIp(ip)
        .build();
  }
}
