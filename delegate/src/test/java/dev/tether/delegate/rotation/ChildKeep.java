package dev.tether.delegate.rotation;

import static java.nio.charset.StandardCharsets.UTF_8;

import dev.tether.common.token.DelegateToken;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Starts {@link KeepInChild}. {@link #unprivileged} runs it without the capabilities that let root
 * ignore file modes and give files away (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_FOWNER,
 * CAP_CHOWN), so that a test run as root sees what a delegate running as an ordinary user sees.
 */
final class ChildKeep implements AutoCloseable {

  private final Process process;
  private final BufferedReader out;

  private ChildKeep(List<String> prefix, Path file, String stopAt, DelegateToken successor) throws IOException {
    List<String> command = new ArrayList<>(prefix);
    command.addAll(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-cp",
        System.getProperty("java.class.path"), KeepInChild.class.getName(), file.toString(), stopAt));
    process = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.DISCARD).start();
    OutputStream in = process.getOutputStream();
    in.write((successor.reveal() + "\n").getBytes(UTF_8));
    in.flush();
    out = new BufferedReader(new InputStreamReader(process.getInputStream(), UTF_8));
  }

  /** A keep as this process's user, stopping at {@code step} ({@code none}: not stopping). */
  static ChildKeep start(Path file, String step, DelegateToken successor) throws IOException {
    return new ChildKeep(List.of(), file, step, successor);
  }

  /** A keep to the end without root's file privileges (as this user if it is not root). */
  static ChildKeep unprivileged(Path file, DelegateToken successor) throws IOException {
    boolean root = "root".equals(System.getProperty("user.name"));
    return new ChildKeep(root
        ? List.of("setpriv", "--bounding-set=-dac_override,-dac_read_search,-fowner,-chown")
        : List.of(), file, "none", successor);
  }

  /** The child's next line of output (null at its end). */
  String line() throws IOException {
    return out.readLine();
  }

  /** SIGKILL, then waits for the process to be gone. */
  void kill() throws InterruptedException {
    process.destroyForcibly().waitFor();
  }

  @Override
  public void close() {
    process.destroyForcibly();
  }
}
