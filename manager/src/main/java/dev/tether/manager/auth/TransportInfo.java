package dev.tether.manager.auth;

import dev.tether.common.handshake.HandshakeCrypto;
import java.net.SocketAddress;

/**
 * Facts about the connection a call arrived on: its remote address, the connection itself (sessions
 * are bound to it) and the channel binding of the certificate this manager presented on it
 * ({@link HandshakeCrypto#channelBinding}: its SHA-256, empty without TLS), shared between calls and
 * never to be modified.
 *
 * <p>The connection is the object gRPC's transport made for it when it became ready: its
 * attributes ({@link io.grpc.ServerCall#getAttributes()}), which hold the connection's own address
 * and TLS session and which the transport hands, the same object, to every call it carries. Two
 * connections are compared by identity (the same object), never by their contents: a new
 * connection from the same address and port, resuming the same TLS session, is another connection.
 * While the object is reachable no other connection can be given it, and a session that waits for
 * its stream refers to it weakly (once the connection is gone, the session cannot be claimed
 * anywhere). That one connection has one such object is how gRPC's Netty transport works rather
 * than an API promise, so {@code TransportInterceptorTest} holds it against the real transport: if
 * a gRPC upgrade gave each call its own, every session would be refused (it fails closed); if one
 * were shared between connections, that test fails.
 *
 * <p>It holds only what the transport already holds (the address, the transport's attributes, the
 * binding every connection shares): a delegate's stream keeps it for as long as the delegate is
 * connected, so the texts for logs and limits are made when they are asked for.
 */
public record TransportInfo(SocketAddress address, Object connection, byte[] channelBinding) {

  static final TransportInfo UNKNOWN = new TransportInfo(null, new Object(), HandshakeCrypto.channelBinding(null));

  /** Equal: the same address, the same connection object (never an equal one) and binding. */
  @Override
  public boolean equals(Object other) {
    return other instanceof TransportInfo info && info.connection == connection
        && java.util.Objects.equals(info.address, address) && java.util.Arrays.equals(info.channelBinding, channelBinding);
  }

  @Override
  public int hashCode() {
    return System.identityHashCode(connection);
  }

  /** The remote address only: the connection's attributes (its TLS session) are not for logs. */
  @Override
  public String toString() {
    return "TransportInfo[" + remoteAddress() + "]";
  }

  /** The remote address, for logs: {@code /10.0.0.7:51234}, or {@code unknown}. */
  public String remoteAddress() {
    return describe(address);
  }

  /** What the rate limits key on: the host, not the ephemeral port (an IPv6 host by its /64). */
  public String remoteHost() {
    return address == null ? "unknown" : SourceKey.of(address);
  }

  static String describe(SocketAddress address) {
    return address == null ? "unknown" : address.toString();
  }
}
