package dev.tether.manager.server;

import dev.tether.manager.auth.HandshakeLimiter;
import dev.tether.manager.cluster.ClusterSettings;
import dev.tether.manager.heartbeat.HeartbeatSettings;
import java.time.Duration;

/**
 * Tunables of a manager: heartbeat timing, how long a handshake may take, how long an unused
 * session lives, and the handshake flood limits.
 */
public record ManagerSettings(
    HeartbeatSettings heartbeat, Duration handshakeTimeout, Duration sessionIdleTtl,
    HandshakeLimiter.Settings limits, ClusterSettings cluster) {

  public static ManagerSettings defaults() {
    return new ManagerSettings(HeartbeatSettings.defaults(), Duration.ofSeconds(10), Duration.ofMinutes(5),
        HandshakeLimiter.Settings.defaults(), ClusterSettings.defaults());
  }

  public ManagerSettings withCluster(ClusterSettings value) {
    return new ManagerSettings(heartbeat, handshakeTimeout, sessionIdleTtl, limits, value);
  }

  public ManagerSettings withHeartbeat(HeartbeatSettings value) {
    return new ManagerSettings(value, handshakeTimeout, sessionIdleTtl, limits, cluster);
  }

  public ManagerSettings withHandshakeTimeout(Duration value) {
    return new ManagerSettings(heartbeat, value, sessionIdleTtl, limits, cluster);
  }

  public ManagerSettings withLimits(HandshakeLimiter.Settings value) {
    return new ManagerSettings(heartbeat, handshakeTimeout, sessionIdleTtl, value, cluster);
  }
}
