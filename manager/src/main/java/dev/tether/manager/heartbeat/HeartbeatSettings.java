package dev.tether.manager.heartbeat;

import java.time.Duration;

/**
 * How often delegates heartbeat, how many missed intervals mark one disconnected, and how often
 * buffered heartbeat times are written to the store.
 */
public record HeartbeatSettings(Duration interval, int missedIntervals, Duration flushInterval) {

  public static HeartbeatSettings defaults() {
    return new HeartbeatSettings(Duration.ofSeconds(10), 3, Duration.ofSeconds(5));
  }

  public Duration livenessTimeout() {
    return interval.multipliedBy(missedIntervals);
  }
}
