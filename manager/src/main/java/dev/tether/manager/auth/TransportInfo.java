package dev.tether.manager.auth;

import dev.tether.common.handshake.HandshakeCrypto;
import java.net.SocketAddress;

/**
 * Facts about the connection a call arrived on: its remote address, an identifier of the connection
 * itself (sessions are bound to it: the number {@link ConnectionIds} gave the transport, or without
 * that filter its remote and local addresses) and the channel binding of the certificate this
 * manager presented on it ({@link HandshakeCrypto#channelBinding}: its SHA-256, empty without TLS),
 * shared between calls and never to be modified.
 *
 * <p>It holds only what the transport already holds (the address, the connection's number, the
 * binding every connection shares): a delegate's stream keeps it for as long as the delegate is
 * connected, so the texts for logs and limits are made when they are asked for.
 */
public record TransportInfo(SocketAddress address, Object connection, byte[] channelBinding) {

  static final TransportInfo UNKNOWN = new TransportInfo(null, "unknown", HandshakeCrypto.channelBinding(null));

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
