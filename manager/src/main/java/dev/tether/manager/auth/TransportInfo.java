package dev.tether.manager.auth;

import java.net.SocketAddress;

/**
 * Facts about the connection a call arrived on: the remote address (for logs and limits) and the
 * DER encoding of the certificate this manager presented on it, or null without TLS.
 */
public record TransportInfo(String remoteAddress, byte[] localCertificateDer) {

  static final TransportInfo UNKNOWN = new TransportInfo("unknown", null);

  static String describe(SocketAddress address) {
    return address == null ? "unknown" : address.toString();
  }
}
