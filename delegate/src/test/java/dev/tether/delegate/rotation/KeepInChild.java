package dev.tether.delegate.rotation;

import dev.tether.common.token.DelegateToken;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Optional;

/**
 * A process that keeps a successor in a token file with {@link TokenFileKeeper}, so that tests can
 * run a keep with fewer privileges than theirs, or kill it with SIGKILL at a chosen step. Arguments:
 * the token file and the step to stop at (or {@code none}); the successor is the first line of
 * standard input. Prints {@code at STEP} when stopped (then waits for standard input to close),
 * {@code kept}, or {@code cannot keep: REASON}.
 */
final class KeepInChild {

  private KeepInChild() {}

  public static void main(String[] args) throws Exception {
    BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    DelegateToken successor = DelegateToken.parse("standard input", in.readLine());
    String stopAt = args[1];
    FileReplacer.Steps steps = step -> {
      if (step.name().equals(stopAt)) {
        System.out.println("at " + step);
        System.out.flush();
        try {
          // waits for the test to kill it; returns only if the test ends without doing so
          while (in.read() != -1) {
            continue;
          }
        } catch (java.io.IOException e) {
          // stdin closed: the test is gone
        }
        Runtime.getRuntime().halt(3);
      }
    };
    try {
      new TokenFileKeeper(Path.of(args[0]), Optional.empty(), steps).keep(successor);
      System.out.println("kept");
    } catch (CannotKeepException e) {
      System.out.println("cannot keep: " + e.getMessage());
    }
    System.out.flush();
  }
}
