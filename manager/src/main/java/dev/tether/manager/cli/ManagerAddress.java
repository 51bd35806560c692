package dev.tether.manager.cli;

import dev.tether.common.text.UserText;
import java.util.Locale;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/**
 * Where an admin command finds the manager: {@code HOST:PORT}, {@code https://HOST:PORT} (TLS) or
 * {@code http://HOST:PORT} (plaintext, as {@code --plaintext}), the forms the delegate accepts too.
 */
record ManagerAddress(String host, int port, Transport transport) {

  /** What the address itself says about TLS. */
  enum Transport {
    /** {@code HOST:PORT}: TLS unless {@code --plaintext}. */
    UNSPECIFIED,
    TLS,
    PLAINTEXT
  }

  /** {@code HOST:PORT}, with IPv6 hosts in brackets. */
  String target() {
    return (host.contains(":") ? "[" + host + "]" : host) + ":" + port;
  }

  /** Picocli's converter for {@code --manager}. */
  static final class Converter implements ITypeConverter<ManagerAddress> {
    @Override
    public ManagerAddress convert(String value) {
      return parse(value);
    }
  }

  static ManagerAddress parse(String value) {
    String v = value == null ? "" : value.strip();
    Transport transport = Transport.UNSPECIFIED;
    String lower = v.toLowerCase(Locale.ROOT);
    if (lower.startsWith("https://")) {
      transport = Transport.TLS;
      v = v.substring("https://".length());
    } else if (lower.startsWith("http://")) {
      transport = Transport.PLAINTEXT;
      v = v.substring("http://".length());
    } else if (lower.contains("://")) {
      throw new TypeConversionException(UserText.quote(value) + " has an unknown scheme (expected HOST:PORT,"
          + " https://HOST:PORT for TLS or http://HOST:PORT for plaintext, for example 127.0.0.1:7444)");
    }
    if (v.endsWith("/")) {
      v = v.substring(0, v.length() - 1);
    }
    int colon = v.lastIndexOf(':');
    if (colon <= 0 || colon == v.length() - 1 || (v.startsWith("[") && !v.substring(0, colon).endsWith("]"))) {
      throw new TypeConversionException(UserText.quote(value) + " is not a manager address (expected HOST:PORT,"
          + " https://HOST:PORT or http://HOST:PORT, for example 127.0.0.1:7444 or [::1]:7444)");
    }
    String host = v.substring(0, colon);
    if (host.startsWith("[") && host.endsWith("]")) {
      host = host.substring(1, host.length() - 1);
    }
    if (host.isEmpty() || host.contains("/")) {
      throw new TypeConversionException(UserText.quote(value) + " has no host (expected HOST:PORT, for example"
          + " 127.0.0.1:7444)");
    }
    String portText = v.substring(colon + 1);
    int port;
    try {
      port = Integer.parseInt(portText);
    } catch (NumberFormatException e) {
      throw new TypeConversionException(UserText.quote(value) + " has port " + UserText.quote(portText)
          + ", which is not a number (expected 1 to 65535, for example 127.0.0.1:7444)");
    }
    if (port < 1 || port > 65535) {
      throw new TypeConversionException(UserText.quote(value) + " has port " + port
          + " (expected 1 to 65535, for example 127.0.0.1:7444)");
    }
    return new ManagerAddress(host, port, transport);
  }
}
