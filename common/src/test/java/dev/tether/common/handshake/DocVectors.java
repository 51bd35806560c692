package dev.tether.common.handshake;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/** Reads a block of test vectors ({@code name: value} lines) from docs/protocol.md itself. */
final class DocVectors {

  private DocVectors() {}

  /** The lines of the block that opens with {@code ```fence}; empty when there is none. */
  static Map<String, String> read(String fence) throws IOException {
    Path doc = Path.of(System.getProperty("user.dir")).resolve("../docs/protocol.md").normalize();
    String text = Files.readString(doc, StandardCharsets.UTF_8);
    Map<String, String> vectors = new LinkedHashMap<>();
    int start = text.indexOf("```" + fence + "\n");
    if (start < 0) {
      return vectors;
    }
    int end = text.indexOf("```", start + 3);
    for (String line : text.substring(start, end).split("\n")) {
      int colon = line.indexOf(':');
      if (colon > 0 && !line.startsWith("```")) {
        vectors.put(line.substring(0, colon).strip(), line.substring(colon + 1).strip());
      }
    }
    return vectors;
  }
}
