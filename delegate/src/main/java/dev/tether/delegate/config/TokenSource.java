package dev.tether.delegate.config;

import dev.tether.common.text.UserText;
import dev.tether.common.token.DelegateToken;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Where the delegate's token comes from: a fixed value (environment or YAML), or a file (for
 * example a mounted Kubernetes Secret) that is read again whenever the token is needed, so a
 * rotated token reaches a running delegate.
 */
public sealed interface TokenSource {

  /** The token now; throws {@link dev.tether.common.token.TokenFormatException} or {@link ConfigException}. */
  DelegateToken current();

  /** Whether the token can change while the delegate runs. */
  boolean reloadable();

  /** Names the source for messages (never the value). */
  String describe();

  /** A value given once, in {@code source} (an environment variable or a YAML key). */
  record Fixed(String source, DelegateToken token) implements TokenSource {
    @Override
    public DelegateToken current() {
      return token;
    }

    @Override
    public boolean reloadable() {
      return false;
    }

    @Override
    public String describe() {
      return source;
    }

    @Override
    public String toString() {
      return "Fixed[" + source + ", " + token + "]";
    }
  }

  /** A file read at each use. */
  record File(String source, Path path) implements TokenSource {
    @Override
    public DelegateToken current() {
      String text;
      try {
        text = Files.readString(path, StandardCharsets.UTF_8);
      } catch (IOException e) {
        throw new ConfigException(source + " " + UserText.quote(path.toString()) + " cannot be read (" + e.getClass().getSimpleName()
            + "; expected a file holding the delegate token)");
      }
      return DelegateToken.parse(describe(), text);
    }

    @Override
    public boolean reloadable() {
      return true;
    }

    @Override
    public String describe() {
      return source + " " + UserText.quote(path.toString());
    }
  }
}
