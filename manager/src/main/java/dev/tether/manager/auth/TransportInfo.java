package dev.tether.manager.auth;

import dev.tether.common.handshake.HandshakeCrypto;
import java.net.SocketAddress;

/**
 * Facts about the connection a call arrived on: the remote address (for logs), its host (for
 * limits), an identifier of the connection itself (remote and local address: sessions are bound to
 * it) and the channel binding of the certificate this manager presented on it
 * ({@link HandshakeCrypto#channelBinding}: its SHA-256, empty without TLS), shared between calls
 * and never to be modified.
 */
public record TransportInfo(String remoteAddress, String remoteHost, String connection, byte[] channelBinding) {

  static final TransportInfo UNKNOWN = new TransportInfo("unknown", "unknown", "unknown",
      HandshakeCrypto.channelBinding(null));

  static String describe(SocketAddress address) {
    return address == null ? "unknown" : address.toString();
  }

  /** What the rate limits key on: the host, not the ephemeral port (an IPv6 host by its /64). */
  static String host(SocketAddress address) {
    return SourceKey.of(address);
  }
}
