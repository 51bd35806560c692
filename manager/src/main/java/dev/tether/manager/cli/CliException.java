package dev.tether.manager.cli;

/** A user error with a message to print as is; the command exits 1. */
final class CliException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  CliException(String message) {
    super(message);
  }
}
