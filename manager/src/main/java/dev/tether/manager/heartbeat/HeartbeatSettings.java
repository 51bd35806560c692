package dev.tether.manager.heartbeat;

import java.time.Duration;

/**
 * How often delegates heartbeat, how many missed intervals mark one disconnected, and how often
 * buffered heartbeat times are written to the store. One delegate's last-heartbeat time is
 * written at most every {@link #heartbeatWriteEvery()}.
 */
public record HeartbeatSettings(Duration interval, int missedIntervals, Duration flushInterval) {

  public static HeartbeatSettings defaults() {
    return new HeartbeatSettings(Duration.ofSeconds(10), 3, Duration.ofSeconds(5));
  }

  /** Three heartbeat intervals: the stored time lags the live one by at most that plus a flush. */
  public Duration heartbeatWriteEvery() {
    return interval.multipliedBy(3);
  }

  public Duration livenessTimeout() {
    return interval.multipliedBy(missedIntervals);
  }
}
