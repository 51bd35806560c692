package dev.tether.delegate.rotation;

import dev.tether.common.files.PrivateFiles;
import dev.tether.common.token.DelegateToken;
import dev.tether.common.token.TokenFormatException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Objects;
import java.util.Optional;

/**
 * Keeps a successor in the delegate's token file ({@code DELEGATE_TOKEN_FILE} or
 * {@code delegateTokenFile}): the file is replaced atomically by {@link FileReplacer}, with the
 * old one's owner, group, mode and final line break.
 */
public final class TokenFileKeeper implements TokenKeeper {

  /** A token file is a line of at most 512 characters; anything much larger is not one. */
  private static final long MAX_BYTES = 64 * 1024;

  private final Path file;
  private final Optional<Path> credentialsDirectory;
  private final FileReplacer.Steps steps;

  /**
   * @param credentialsDirectory systemd's {@code CREDENTIALS_DIRECTORY} if set: a token file in it
   *     is a credential, which cannot be changed while the service runs
   */
  public TokenFileKeeper(Path file, Optional<Path> credentialsDirectory) {
    this(file, credentialsDirectory, FileReplacer.Steps.NONE);
  }

  TokenFileKeeper(Path file, Optional<Path> credentialsDirectory, FileReplacer.Steps steps) {
    this.file = Objects.requireNonNull(file, "file");
    this.credentialsDirectory = Objects.requireNonNull(credentialsDirectory, "credentialsDirectory");
    this.steps = Objects.requireNonNull(steps, "steps");
  }

  @Override
  public String describe() {
    return "token file " + PrivateFiles.quote(file);
  }

  @Override
  public void keep(DelegateToken successor) throws CannotKeepException {
    Objects.requireNonNull(successor, "successor");
    String what = describe();
    Path target = FileReplacer.target(what, file, credentialsDirectory);
    String old;
    try {
      if (Files.size(target) > MAX_BYTES) {
        throw new CannotKeepException(what + " is larger than " + MAX_BYTES + " bytes, so it does not hold just a"
            + " token; not replacing it");
      }
      old = Files.readString(target, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new CannotKeepException(what + " cannot be read (" + FileReplacer.cause(e) + ")");
    }
    byte[] content = (successor.reveal() + lineBreak(old)).getBytes(StandardCharsets.UTF_8);
    try {
      // what the delegate reads at its next start; a value that does not read back is never written
      if (!DelegateToken.parse(what, new String(content, StandardCharsets.UTF_8)).equals(successor)) {
        throw new CannotKeepException(what + ": the new content would not read back as the new token");
      }
    } catch (TokenFormatException e) {
      throw new CannotKeepException(e.getMessage());
    }
    FileReplacer.replace(what, target, content, steps);
  }

  /** The old file's final line break, so that the file keeps its format ("\n", "\r\n" or none). */
  private static String lineBreak(String old) {
    if (old.endsWith("\r\n")) {
      return "\r\n";
    }
    return old.endsWith("\n") ? "\n" : "";
  }

  @Override
  public String toString() {
    return "TokenFileKeeper[" + file + "]";
  }
}
