package dev.tether.manager.auth;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import org.junit.jupiter.api.Test;

/** The per-address limits count an IPv4 address as itself and an IPv6 address by its /64. */
class SourceKeyTest {

  /** Found by the attacker's review: on IPv6 one host has a whole /64, and each address in it was a new share. */
  @Test
  void ipv6AddressesOfOneSlash64_shareAKey_andIpv4AddressesDoNot() throws Exception {
    String a = SourceKey.of(new InetSocketAddress(InetAddress.getByName("2001:db8:1:2::1"), 1));
    String b = SourceKey.of(new InetSocketAddress(InetAddress.getByName("2001:db8:1:2:ffff:0:0:7"), 2));
    String other = SourceKey.of(new InetSocketAddress(InetAddress.getByName("2001:db8:1:3::1"), 1));
    assertThat(a).isEqualTo(b).isEqualTo("2001:db8:1:2::/64");
    assertThat(other).isNotEqualTo(a);
    assertThat(SourceKey.of(new InetSocketAddress(InetAddress.getByName("10.0.0.1"), 1))).isEqualTo("10.0.0.1");
    assertThat(SourceKey.of(new InetSocketAddress(InetAddress.getByName("10.0.0.2"), 1))).isEqualTo("10.0.0.2");
    assertThat(SourceKey.of(new InetSocketAddress(InetAddress.getByName("::1"), 1))).isEqualTo("0:0:0:0:0:0:0:1");
  }
}
