package dev.tether.delegate.config;

import dev.tether.common.text.UserText;
import java.net.URI;
import java.net.URISyntaxException;

/**
 * Where the manager is: {@code https://host:port} (TLS, the default), {@code http://host:port}
 * (plaintext, for local development) or a bare {@code host:port} (TLS).
 */
public record ManagerEndpoint(String host, int port, boolean tls) {

  public static final int DEFAULT_PORT = 7443;

  public static ManagerEndpoint parse(String source, String value) {
    String v = value == null ? "" : value.strip();
    if (v.isEmpty()) {
      throw new ConfigException(source + " is empty (expected a manager address such as https://manager.example.com:7443)");
    }
    String withScheme = v.contains("://") ? v : "https://" + v;
    checkPort(source, v, withScheme);
    URI uri;
    try {
      uri = new URI(withScheme);
    } catch (URISyntaxException e) {
      throw new ConfigException(source + " " + UserText.quote(v) + " is not a valid address (expected https://HOST:PORT or http://HOST:PORT)");
    }
    String scheme = uri.getScheme().toLowerCase(java.util.Locale.ROOT);
    if (!scheme.equals("https") && !scheme.equals("http")) {
      throw new ConfigException(source + " " + UserText.quote(v) + " has scheme '" + scheme
          + "' (expected https:// for TLS or http:// for plaintext)");
    }
    if (uri.getHost() == null) {
      throw new ConfigException(source + " " + UserText.quote(v) + " has no host (expected https://HOST:PORT)");
    }
    if (uri.getPath() != null && !uri.getPath().isEmpty() && !uri.getPath().equals("/")) {
      throw new ConfigException(source + " " + UserText.quote(v) + " has a path " + UserText.quote(uri.getPath())
          + " (expected only a scheme, host and port, such as https://HOST:7443)");
    }
    int port = uri.getPort() == -1 ? DEFAULT_PORT : uri.getPort();
    String host = uri.getHost();
    if (host.startsWith("[") && host.endsWith("]")) {
      host = host.substring(1, host.length() - 1);
    }
    return new ManagerEndpoint(host, port, scheme.equals("https"));
  }

  /**
   * Refuses a port that is not a number from 1 to 65535 before the URI parser sees it: it would
   * take {@code https://127.0.0.1:abc} as an authority without a host and report that instead.
   */
  private static void checkPort(String source, String value, String withScheme) {
    String authority = withScheme.substring(withScheme.indexOf("://") + 3);
    for (char end : new char[] {'/', '?', '#'}) {
      int at = authority.indexOf(end);
      if (at >= 0) {
        authority = authority.substring(0, at);
      }
    }
    authority = authority.substring(authority.lastIndexOf('@') + 1);
    String port;
    if (authority.startsWith("[")) {
      int close = authority.indexOf(']');
      if (close < 0 || close + 1 >= authority.length() || authority.charAt(close + 1) != ':') {
        return;
      }
      port = authority.substring(close + 2);
    } else {
      int colon = authority.indexOf(':');
      if (colon < 0 || authority.indexOf(':', colon + 1) >= 0) {
        return; // no port, or an IPv6 address without brackets, which the URI parser refuses
      }
      port = authority.substring(colon + 1);
    }
    String expected = " (expected https://HOST:PORT or http://HOST:PORT with a PORT from 1 to 65535, such as"
        + " https://manager.example.com:" + DEFAULT_PORT + "; without a port, " + DEFAULT_PORT + " is used)";
    if (port.isEmpty()) {
      throw new ConfigException(source + " " + UserText.quote(value) + " has nothing after the ':' where the port"
          + " goes" + expected);
    }
    if (!port.chars().allMatch(c -> c >= '0' && c <= '9')) {
      throw new ConfigException(source + " " + UserText.quote(value) + " has port " + UserText.quote(port)
          + ", which is not a number" + expected);
    }
    if (port.length() > 5 || Integer.parseInt(port) < 1 || Integer.parseInt(port) > 65535) {
      throw new ConfigException(source + " " + UserText.quote(value) + " has port " + UserText.quote(port)
          + ", which is out of range" + expected);
    }
  }

  /**
   * Parses a comma-separated list of manager replicas; all must use the same scheme, so that one
   * setting never mixes TLS and plaintext.
   */
  public static java.util.List<ManagerEndpoint> parseList(String source, String value) {
    java.util.List<ManagerEndpoint> out = new java.util.ArrayList<>();
    for (String part : (value == null ? "" : value).split(",")) {
      if (!part.isBlank()) {
        out.add(parse(source, part));
      }
    }
    if (out.isEmpty()) {
      return java.util.List.of(parse(source, value));
    }
    if (out.stream().map(ManagerEndpoint::tls).distinct().count() > 1) {
      throw new ConfigException(source + " mixes https:// and http:// managers (expected all TLS or all plaintext)");
    }
    return java.util.List.copyOf(out);
  }

  @Override
  public String toString() {
    return (tls ? "https://" : "http://") + (host.contains(":") ? "[" + host + "]" : host) + ":" + port;
  }
}
