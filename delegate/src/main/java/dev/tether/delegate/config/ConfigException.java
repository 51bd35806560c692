package dev.tether.delegate.config;

/** A missing or malformed setting; the message names it and says how to fix it. */
public final class ConfigException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public ConfigException(String message) {
    super(message);
  }
}
