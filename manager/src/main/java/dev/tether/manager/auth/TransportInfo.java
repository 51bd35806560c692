package dev.tether.manager.auth;

import java.net.SocketAddress;

/**
 * Facts about the connection a call arrived on: the remote address (for logs), its host (for
 * limits), an identifier of the connection itself (remote and local address: sessions are bound to
 * it) and the DER encoding of the certificate this manager presented on it, or null without TLS.
 */
public record TransportInfo(String remoteAddress, String remoteHost, String connection, byte[] localCertificateDer) {

  static final TransportInfo UNKNOWN = new TransportInfo("unknown", "unknown", "unknown", null);

  static String describe(SocketAddress address) {
    return address == null ? "unknown" : address.toString();
  }

  /** What the rate limits key on: the host, not the ephemeral port (an IPv6 host by its /64). */
  static String host(SocketAddress address) {
    return SourceKey.of(address);
  }
}
