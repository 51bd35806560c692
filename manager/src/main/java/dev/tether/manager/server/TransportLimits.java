package dev.tether.manager.server;

/**
 * Limits on the delegate listener's connections: how many one remote address may hold, how many
 * calls one connection may carry at once, how many calls one address may hold open on the services
 * that need no credential (health, reflection), and grpc-java's defence against HTTP/2 rapid reset
 * (more than {@code maxRstFrames} RST_STREAM frames from the client within {@code rstWindowSeconds}
 * ends the connection with GOAWAY).
 */
public record TransportLimits(
    int maxConnectionsPerAddress, int maxConcurrentCallsPerConnection, int maxOpenCallsPerAddress,
    int maxRstFrames, int rstWindowSeconds) {

  public static TransportLimits defaults() {
    return new TransportLimits(1000, 100, 64, 200, 10);
  }

  public TransportLimits withMaxConnectionsPerAddress(int value) {
    return new TransportLimits(value, maxConcurrentCallsPerConnection, maxOpenCallsPerAddress, maxRstFrames,
        rstWindowSeconds);
  }

  public TransportLimits withMaxConcurrentCallsPerConnection(int value) {
    return new TransportLimits(maxConnectionsPerAddress, value, maxOpenCallsPerAddress, maxRstFrames, rstWindowSeconds);
  }

  public TransportLimits withMaxOpenCallsPerAddress(int value) {
    return new TransportLimits(maxConnectionsPerAddress, maxConcurrentCallsPerConnection, value, maxRstFrames,
        rstWindowSeconds);
  }

  public TransportLimits withRstLimit(int frames, int windowSeconds) {
    return new TransportLimits(maxConnectionsPerAddress, maxConcurrentCallsPerConnection, maxOpenCallsPerAddress,
        frames, windowSeconds);
  }
}
