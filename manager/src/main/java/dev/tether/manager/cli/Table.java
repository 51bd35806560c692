package dev.tether.manager.cli;

import dev.tether.common.text.UserText;
import java.io.PrintStream;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;

/**
 * A plain text table with aligned columns, for the admin commands' default output. Cells hold
 * names that delegates and admins chose, so each cell goes through {@link UserText#quoteIfNeeded}:
 * a cell with a control, format or separator character, a quote, or spaces that could pass for a
 * column gap is shown quoted and escaped, never raw.
 */
final class Table {

  private static final DateTimeFormatter TIME =
      DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss'Z'").withZone(ZoneOffset.UTC);

  private final List<String[]> rows = new ArrayList<>();

  Table(String... header) {
    rows.add(header);
  }

  Table row(String... cells) {
    String[] shown = new String[cells.length];
    for (int i = 0; i < cells.length; i++) {
      shown[i] = UserText.quoteIfNeeded(cells[i]);
    }
    rows.add(shown);
    return this;
  }

  void print(PrintStream out) {
    int[] widths = new int[rows.get(0).length];
    for (String[] row : rows) {
      for (int i = 0; i < row.length; i++) {
        widths[i] = Math.max(widths[i], UserText.length(row[i]));
      }
    }
    for (String[] row : rows) {
      StringBuilder line = new StringBuilder();
      for (int i = 0; i < row.length; i++) {
        line.append(row[i]);
        if (i < row.length - 1) {
          line.append(" ".repeat(widths[i] - UserText.length(row[i]) + 2));
        }
      }
      out.println(line.toString().stripTrailing());
    }
    if (rows.size() == 1) {
      out.println("(none)");
    }
  }

  static String time(long unixMs) {
    return unixMs == 0 ? "-" : TIME.format(Instant.ofEpochMilli(unixMs));
  }
}
