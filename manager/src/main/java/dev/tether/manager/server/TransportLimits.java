package dev.tether.manager.server;

/**
 * Limits on the delegate listener's connections: how many one remote address may hold, how many
 * calls one connection may carry at once, and grpc-java's defence against HTTP/2 rapid reset (more
 * than {@code maxRstFrames} RST_STREAM frames from the client within {@code rstWindowSeconds} ends
 * the connection with GOAWAY).
 */
public record TransportLimits(
    int maxConnectionsPerAddress, int maxConcurrentCallsPerConnection, int maxRstFrames, int rstWindowSeconds) {

  public static TransportLimits defaults() {
    return new TransportLimits(1000, 100, 200, 10);
  }

  public TransportLimits withMaxConnectionsPerAddress(int value) {
    return new TransportLimits(value, maxConcurrentCallsPerConnection, maxRstFrames, rstWindowSeconds);
  }

  public TransportLimits withMaxConcurrentCallsPerConnection(int value) {
    return new TransportLimits(maxConnectionsPerAddress, value, maxRstFrames, rstWindowSeconds);
  }

  public TransportLimits withRstLimit(int frames, int windowSeconds) {
    return new TransportLimits(maxConnectionsPerAddress, maxConcurrentCallsPerConnection, frames, windowSeconds);
  }
}
