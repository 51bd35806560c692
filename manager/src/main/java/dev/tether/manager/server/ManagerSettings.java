package dev.tether.manager.server;

import dev.tether.manager.heartbeat.HeartbeatSettings;
import java.time.Duration;

/**
 * Tunables of a manager: heartbeat timing, how long a handshake may take, how long an unused
 * session lives.
 */
public record ManagerSettings(
    HeartbeatSettings heartbeat, Duration handshakeTimeout, Duration sessionIdleTtl) {

  public static ManagerSettings defaults() {
    return new ManagerSettings(HeartbeatSettings.defaults(), Duration.ofSeconds(10), Duration.ofMinutes(5));
  }

  public ManagerSettings withHeartbeat(HeartbeatSettings value) {
    return new ManagerSettings(value, handshakeTimeout, sessionIdleTtl);
  }

  public ManagerSettings withHandshakeTimeout(Duration value) {
    return new ManagerSettings(heartbeat, value, sessionIdleTtl);
  }
}
