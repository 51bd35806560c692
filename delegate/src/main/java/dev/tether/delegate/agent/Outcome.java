package dev.tether.delegate.agent;

/** How the delegate ends: its exit code and the one line that says why. */
public record Outcome(int exitCode, String message) {

  public static final int STOPPED = 0;
  public static final int FATAL = 1;
  public static final int TOKEN_REFUSED = 78;
}
