package dev.tether.delegate.config;

import dev.tether.common.text.UserText;
import java.net.InetSocketAddress;
import java.util.Locale;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * Where the delegate's ops listener ({@code /metrics}, {@code /healthz}, {@code /readyz}, plain
 * HTTP) listens, and the setting that said so, which a failure to listen names.
 */
public record OpsListen(InetSocketAddress address, String setting) {

  static final String EXPECTED = "expected HOST:PORT such as 127.0.0.1:9465, 0.0.0.0:9465 or [::1]:9465, or 'off'";
  /** What a host may be before it is looked up: an IPv4 or bracketed IPv6 literal, or a DNS name. */
  private static final Pattern HOST = Pattern.compile("[A-Za-z0-9.-]{1,253}|[0-9A-Fa-f:.]{2,45}(%[A-Za-z0-9._-]{1,64})?");

  /**
   * Parses {@code HOST:PORT} (an IPv6 address in brackets, {@code [::1]:9465}); empty for no value
   * or {@code off}. Port 0 picks a free port, which the delegate's start line shows.
   *
   * @param setting the environment variable or YAML key the value came from, for messages
   */
  static Optional<OpsListen> parse(String setting, String value) {
    String v = value == null ? "" : value.strip();
    if (v.isEmpty() || v.toLowerCase(Locale.ROOT).equals("off")) {
      return Optional.empty();
    }
    String given = setting + " " + UserText.quote(v);
    int colon = v.lastIndexOf(':');
    if (colon <= 0) {
      throw new ConfigException(given + " is not HOST:PORT (" + EXPECTED + ")");
    }
    String host = v.substring(0, colon);
    String port = v.substring(colon + 1);
    if (host.startsWith("[") && host.endsWith("]")) {
      host = host.substring(1, host.length() - 1);
      if (!host.contains(":")) {
        throw new ConfigException(given + " has " + UserText.quote(host) + " in brackets, which are for an IPv6"
            + " address only (" + EXPECTED + ")");
      }
    } else if (host.contains(":") || host.contains("[") || host.contains("]")) {
      throw new ConfigException(given + " is not HOST:PORT: an IPv6 address goes in brackets, as in [::1]:9465 ("
          + EXPECTED + ")");
    }
    if (port.isEmpty() || port.length() > 5 || !port.chars().allMatch(c -> c >= '0' && c <= '9')
        || Integer.parseInt(port) > 65535) {
      throw new ConfigException(given + " has port " + UserText.quote(port) + ", which is not a number from 0 to"
          + " 65535 (" + EXPECTED + ")");
    }
    if (!HOST.matcher(host).matches()) {
      throw new ConfigException(given + " has host " + UserText.quote(host) + ", which is neither an IP address nor"
          + " a host name (" + EXPECTED + ")");
    }
    InetSocketAddress address = new InetSocketAddress(host, Integer.parseInt(port));
    if (address.isUnresolved()) {
      throw new ConfigException(given + " has host " + UserText.quote(host) + ", which does not resolve (" + EXPECTED
          + "; 0.0.0.0 listens on every address of this machine)");
    }
    return Optional.of(new OpsListen(address, setting));
  }

  /** {@code http://HOST:PORT}, an IPv6 address in brackets. */
  @Override
  public String toString() {
    String host = address.getAddress().getHostAddress();
    return "http://" + (host.contains(":") ? "[" + host + "]" : host) + ":" + address.getPort();
  }
}
