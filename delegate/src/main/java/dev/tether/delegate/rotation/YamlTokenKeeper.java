package dev.tether.delegate.rotation;

import dev.tether.common.files.PrivateFiles;
import dev.tether.common.token.DelegateToken;
import dev.tether.common.token.TokenFormatException;
import java.io.IOException;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import org.yaml.snakeyaml.DumperOptions;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;
import org.yaml.snakeyaml.error.YAMLException;
import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.NodeTuple;
import org.yaml.snakeyaml.nodes.ScalarNode;

/**
 * Keeps a successor in the key of the delegate's YAML config file that holds its token
 * ({@code delegateToken}, or the legacy {@code accountSecret}): only that scalar's characters are
 * replaced, so every other key, comment, blank line and quote stays byte for byte, and the file is
 * replaced atomically by {@link FileReplacer}.
 *
 * <p>The scalar's span comes from SnakeYAML's node marks. The new value is written in the old
 * scalar's style when that style can hold it (plain or single-quoted), else double-quoted; the
 * result is parsed back and must yield the successor under that key and every other key unchanged,
 * or nothing is written.
 */
public final class YamlTokenKeeper implements TokenKeeper {

  /** The limit ConfigLoader applies to the config file. */
  private static final int MAX_BYTES = 64 * 1024;

  private final Path file;
  private final String key;
  private final FileReplacer.Steps steps;

  /** @param key the key the token was read from: {@code delegateToken} or {@code accountSecret} */
  public YamlTokenKeeper(Path file, String key) {
    this(file, key, FileReplacer.Steps.NONE);
  }

  YamlTokenKeeper(Path file, String key, FileReplacer.Steps steps) {
    this.file = Objects.requireNonNull(file, "file");
    this.key = Objects.requireNonNull(key, "key");
    this.steps = Objects.requireNonNull(steps, "steps");
  }

  @Override
  public String describe() {
    return key + " in config file " + PrivateFiles.quote(file);
  }

  @Override
  public void keep(DelegateToken successor) throws CannotKeepException {
    Objects.requireNonNull(successor, "successor");
    String what = describe();
    Path target = FileReplacer.target("config file " + PrivateFiles.quote(file), file, Optional.empty());
    String text;
    try {
      if (Files.size(target) > MAX_BYTES) {
        throw new CannotKeepException("config file " + PrivateFiles.quote(file) + " is larger than " + MAX_BYTES
            + " bytes, which the delegate would refuse at its next start");
      }
      text = Files.readString(target, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new CannotKeepException("config file " + PrivateFiles.quote(file) + " cannot be read ("
          + FileReplacer.cause(e) + ")");
    }
    Map<Object, Object> before = load(text).orElseThrow(() -> new CannotKeepException(what
        + ": the file is no longer a YAML mapping the delegate can read"));
    ScalarNode scalar = scalar(text, what);
    int start = text.offsetByCodePoints(0, scalar.getStartMark().getIndex());
    int end = text.offsetByCodePoints(0, scalar.getEndMark().getIndex());
    // a block scalar's span takes the line breaks after it; they are the file's, not the value's
    String span = text.substring(start, end);
    String breaks = span.substring(span.stripTrailing().length());
    String value = successor.reveal();
    for (String written : candidates(scalar.getScalarStyle(), value)) {
      String replaced = text.substring(0, start) + written + breaks + text.substring(end);
      if (yields(replaced, before, successor)) {
        FileReplacer.replace("config file " + PrivateFiles.quote(file), target,
            replaced.getBytes(StandardCharsets.UTF_8), steps);
        return;
      }
    }
    throw new CannotKeepException(what + ": the new token cannot be written as a YAML value that reads back as it"
        + " with every other key unchanged; set it by hand");
  }

  /** The scalar node holding the token, found by composing the document. */
  private ScalarNode scalar(String text, String what) throws CannotKeepException {
    Node root;
    try {
      root = yaml().compose(new StringReader(text));
    } catch (YAMLException e) {
      // the parser's message may quote the file's text, which holds the token: not repeated
      throw new CannotKeepException(what + ": the file is no longer valid YAML");
    }
    if (!(root instanceof MappingNode mapping)) {
      throw new CannotKeepException(what + ": the file is not a YAML mapping");
    }
    for (NodeTuple tuple : mapping.getValue()) {
      if (tuple.getKeyNode() instanceof ScalarNode k && k.getValue().equals(key)) {
        if (tuple.getValueNode() instanceof ScalarNode v && v.getStartMark() != null && v.getEndMark() != null) {
          return v;
        }
        throw new CannotKeepException(what + " is not a single value (an alias, list or mapping)");
      }
    }
    throw new CannotKeepException(what + ": the key is no longer in the file");
  }

  /** The ways to write {@code value}: the old style first, double quotes (which hold anything) last. */
  private static List<String> candidates(DumperOptions.ScalarStyle style, String value) {
    List<String> out = new ArrayList<>();
    if (style == DumperOptions.ScalarStyle.PLAIN) {
      out.add(value);
    } else if (style == DumperOptions.ScalarStyle.SINGLE_QUOTED) {
      out.add("'" + value.replace("'", "''") + "'");
    }
    out.add("\"" + value.replace("\\", "\\\\").replace("\"", "\\\"") + "\"");
    return out;
  }

  /** Whether {@code text} reads as {@code before} with the key holding the successor, and nothing else changed. */
  private boolean yields(String text, Map<Object, Object> before, DelegateToken successor) {
    Optional<Map<Object, Object>> after = load(text);
    if (after.isEmpty() || !(after.get().get(key) instanceof String written)) {
      return false;
    }
    try {
      if (!DelegateToken.parse(describe(), written).equals(successor)) {
        return false;
      }
    } catch (TokenFormatException e) {
      return false;
    }
    Map<Object, Object> others = new HashMap<>(after.get());
    others.remove(key);
    Map<Object, Object> othersBefore = new HashMap<>(before);
    othersBefore.remove(key);
    return others.equals(othersBefore);
  }

  private static Optional<Map<Object, Object>> load(String text) {
    Object document;
    try {
      document = yaml().load(text);
    } catch (YAMLException e) {
      return Optional.empty();
    }
    if (!(document instanceof Map<?, ?> map)) {
      return Optional.empty();
    }
    return Optional.of(new HashMap<>(map));
  }

  /** The parser settings of ConfigLoader, so that what is checked here is what the delegate reads. */
  private static Yaml yaml() {
    LoaderOptions options = new LoaderOptions();
    options.setAllowDuplicateKeys(false);
    options.setMaxAliasesForCollections(10);
    options.setCodePointLimit(MAX_BYTES);
    return new Yaml(new SafeConstructor(options));
  }

  @Override
  public String toString() {
    return "YamlTokenKeeper[" + key + " in " + file + "]";
  }
}
