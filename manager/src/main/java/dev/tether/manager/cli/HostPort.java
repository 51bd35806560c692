package dev.tether.manager.cli;

import java.net.InetSocketAddress;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/** Parses {@code HOST:PORT} (IPv6 as {@code [::1]:7443}). */
public final class HostPort implements ITypeConverter<InetSocketAddress> {

  @Override
  public InetSocketAddress convert(String value) {
    return parse(value);
  }

  public static InetSocketAddress parse(String value) {
    String v = value == null ? "" : value.strip();
    int colon = v.lastIndexOf(':');
    if (colon <= 0 || colon == v.length() - 1) {
      throw new TypeConversionException("'" + value + "' is not HOST:PORT (for example 0.0.0.0:7443"
          + " or [::1]:7443)");
    }
    String host = v.substring(0, colon);
    if (host.startsWith("[") && host.endsWith("]")) {
      host = host.substring(1, host.length() - 1);
    }
    int port;
    try {
      port = Integer.parseInt(v.substring(colon + 1));
    } catch (NumberFormatException e) {
      throw new TypeConversionException("'" + value + "' has a port that is not a number (expected 1 to 65535)");
    }
    if (port < 0 || port > 65535) {
      throw new TypeConversionException("'" + value + "' has port " + port + " (expected 0 to 65535)");
    }
    return InetSocketAddress.createUnresolved(host, port);
  }
}
