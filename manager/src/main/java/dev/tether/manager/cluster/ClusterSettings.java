package dev.tether.manager.cluster;

import java.time.Duration;

/**
 * Timing of replica coordination: how often a replica says it is alive, after how long a silent
 * replica counts as lost, how often each replica reconciles its streams against the tokens
 * table, and how long a revoke waits for the other replicas to confirm.
 */
public record ClusterSettings(
    Duration replicaHeartbeat, Duration lostAfter, Duration reconcileInterval, Duration confirmTimeout) {

  public static ClusterSettings defaults() {
    return new ClusterSettings(Duration.ofSeconds(2), Duration.ofSeconds(10), Duration.ofSeconds(2), Duration.ofSeconds(2));
  }
}
