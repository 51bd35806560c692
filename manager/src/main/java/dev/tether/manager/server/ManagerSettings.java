package dev.tether.manager.server;

import dev.tether.manager.auth.HandshakeLimiter;
import dev.tether.manager.cluster.ClusterSettings;
import dev.tether.manager.heartbeat.HeartbeatSettings;
import dev.tether.manager.rotation.RotationTiming;
import java.time.Duration;

/**
 * Tunables of a manager: heartbeat timing, how long a handshake may take, how long a session may
 * wait for its stream and how many may wait per token, the handshake flood limits, the limits
 * on connections and streams, and the waits of a rotation.
 */
public record ManagerSettings(
    HeartbeatSettings heartbeat, Duration handshakeTimeout, Duration sessionUnusedTtl,
    int maxWaitingSessionsPerToken, HandshakeLimiter.Settings limits, TransportLimits transport,
    ClusterSettings cluster, Duration minTokenLifetime, RotationTiming rotation) {

  /** Shortest token lifetime an admin may ask for, unless set otherwise. */
  public static final Duration MIN_TOKEN_LIFETIME = Duration.ofMinutes(1);

  public ManagerSettings(HeartbeatSettings heartbeat, Duration handshakeTimeout, Duration sessionUnusedTtl,
      int maxWaitingSessionsPerToken, HandshakeLimiter.Settings limits, TransportLimits transport,
      ClusterSettings cluster) {
    this(heartbeat, handshakeTimeout, sessionUnusedTtl, maxWaitingSessionsPerToken, limits, transport, cluster,
        MIN_TOKEN_LIFETIME, RotationTiming.defaults());
  }

  public static ManagerSettings defaults() {
    return new ManagerSettings(HeartbeatSettings.defaults(), Duration.ofSeconds(10), Duration.ofSeconds(60), 1024,
        HandshakeLimiter.Settings.defaults(), TransportLimits.defaults(), ClusterSettings.defaults());
  }

  public ManagerSettings withMinTokenLifetime(Duration value) {
    return new ManagerSettings(heartbeat, handshakeTimeout, sessionUnusedTtl, maxWaitingSessionsPerToken, limits,
        transport, cluster, value, rotation);
  }

  public ManagerSettings withCluster(ClusterSettings value) {
    return new ManagerSettings(heartbeat, handshakeTimeout, sessionUnusedTtl, maxWaitingSessionsPerToken, limits,
        transport, value, minTokenLifetime, rotation);
  }

  public ManagerSettings withHeartbeat(HeartbeatSettings value) {
    return new ManagerSettings(value, handshakeTimeout, sessionUnusedTtl, maxWaitingSessionsPerToken, limits,
        transport, cluster, minTokenLifetime, rotation);
  }

  public ManagerSettings withHandshakeTimeout(Duration value) {
    return new ManagerSettings(heartbeat, value, sessionUnusedTtl, maxWaitingSessionsPerToken, limits, transport,
        cluster, minTokenLifetime, rotation);
  }

  public ManagerSettings withSessionUnusedTtl(Duration value) {
    return new ManagerSettings(heartbeat, handshakeTimeout, value, maxWaitingSessionsPerToken, limits, transport,
        cluster, minTokenLifetime, rotation);
  }

  public ManagerSettings withMaxWaitingSessionsPerToken(int value) {
    return new ManagerSettings(heartbeat, handshakeTimeout, sessionUnusedTtl, value, limits, transport, cluster, minTokenLifetime, rotation);
  }

  public ManagerSettings withLimits(HandshakeLimiter.Settings value) {
    return new ManagerSettings(heartbeat, handshakeTimeout, sessionUnusedTtl, maxWaitingSessionsPerToken, value,
        transport, cluster, minTokenLifetime, rotation);
  }

  public ManagerSettings withTransport(TransportLimits value) {
    return new ManagerSettings(heartbeat, handshakeTimeout, sessionUnusedTtl, maxWaitingSessionsPerToken, limits,
        value, cluster, minTokenLifetime, rotation);
  }

  public ManagerSettings withRotation(RotationTiming value) {
    return new ManagerSettings(heartbeat, handshakeTimeout, sessionUnusedTtl, maxWaitingSessionsPerToken, limits,
        transport, cluster, minTokenLifetime, value);
  }
}
