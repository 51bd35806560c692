package dev.tether.manager.auth;

import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;

/**
 * The key under which the per-address limits count a client: its IPv4 address, or for IPv6 the
 * /64 prefix its address is in (one host is routinely given a whole /64, and could otherwise take
 * a share of every limit per address in it).
 */
public final class SourceKey {

  private SourceKey() {}

  public static String of(SocketAddress address) {
    if (address instanceof InetSocketAddress inet && inet.getAddress() != null) {
      return of(inet.getAddress());
    }
    return String.valueOf(address);
  }

  static String of(InetAddress address) {
    if (address instanceof Inet6Address v6 && !v6.isLoopbackAddress()) {
      byte[] bytes = v6.getAddress();
      StringBuilder prefix = new StringBuilder();
      for (int i = 0; i < 8; i += 2) {
        prefix.append(Integer.toHexString(((bytes[i] & 0xff) << 8) | (bytes[i + 1] & 0xff))).append(':');
      }
      return prefix.append(":/64").toString();
    }
    return address.getHostAddress();
  }
}
