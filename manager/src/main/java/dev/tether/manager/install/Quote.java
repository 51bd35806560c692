package dev.tether.manager.install;

/** Quoting of values for the formats install files are written in. */
final class Quote {

  private Quote() {}

  /** A JSON string literal; also a valid YAML double-quoted scalar. */
  static String json(String value) {
    StringBuilder out = new StringBuilder("\"");
    for (char c : value.toCharArray()) {
      switch (c) {
        case '"' -> out.append("\\\"");
        case '\\' -> out.append("\\\\");
        case '\n' -> out.append("\\n");
        case '\r' -> out.append("\\r");
        case '\t' -> out.append("\\t");
        default -> {
          if (c < 0x20) {
            out.append(String.format("\\u%04x", (int) c));
          } else {
            out.append(c);
          }
        }
      }
    }
    return out.append('"').toString();
  }

  /** A POSIX shell single-quoted word. */
  static String shell(String value) {
    return "'" + value.replace("'", "'\\''") + "'";
  }
}
