package dev.tether.manager.ops;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Finds the series selectors (metric name and label matchers) of a PromQL expression, so that tests
 * can check which metrics the alert rules and the dashboard read. It knows PromQL's lexical shape
 * (strings, comments, ranges, label lists after by/on/ignoring, function calls), not its grammar:
 * promtool checks the grammar.
 */
final class PromQlSelectors {

  /** One label matcher, such as {@code job="tether-manager"} (label job, operator =, value tether-manager). */
  record Matcher(String label, String operator, String value) {
    @Override
    public String toString() {
      return label + operator + '"' + value + '"';
    }
  }

  /** A metric name with the matchers in its braces (none without braces). */
  record Selector(String metric, List<Matcher> matchers) {
    boolean has(String label, String operator, String value) {
      return matchers.contains(new Matcher(label, operator, value));
    }

    @Override
    public String toString() {
      return metric + matchers;
    }
  }

  /** Aggregation operators: "sum by (job) (x)" names no metric "sum". */
  private static final Set<String> AGGREGATORS = Set.of("sum", "min", "max", "avg", "group", "stddev", "stdvar",
      "count", "count_values", "bottomk", "topk", "quantile", "limitk", "limit_ratio");
  /** Keywords followed by a parenthesised list of label names, not of expressions. */
  private static final Set<String> LABEL_LISTS = Set.of("by", "without", "on", "ignoring", "group_left",
      "group_right");
  private static final Set<String> KEYWORDS = Set.of("and", "or", "unless", "atan2", "bool", "offset", "inf", "nan");

  private final String expr;
  private int pos;

  private PromQlSelectors(String expr) {
    this.expr = expr;
  }

  /** Every selector of {@code expr}, in order. */
  static List<Selector> of(String expr) {
    return new PromQlSelectors(expr).scan();
  }

  private List<Selector> scan() {
    List<Selector> found = new ArrayList<>();
    while (pos < expr.length()) {
      char c = expr.charAt(pos);
      if (c == '"' || c == '\'' || c == '`') {
        string();
      } else if (c == '#') {
        while (pos < expr.length() && expr.charAt(pos) != '\n') {
          pos++;
        }
      } else if (c == '[') {
        skipPast(']');
      } else if (c == '{') {
        found.add(new Selector(null, matchers()));
      } else if (Character.isDigit(c) || c == '.') {
        // numbers and durations (0.75, 1e3, 0x1f, 5m): none of their letters is a name
        while (pos < expr.length() && (Character.isLetterOrDigit(expr.charAt(pos)) || expr.charAt(pos) == '.')) {
          pos++;
        }
      } else if (Character.isLetter(c) || c == '_' || c == ':') {
        word(found);
      } else {
        pos++;
      }
    }
    return found;
  }

  private void word(List<Selector> found) {
    int start = pos;
    while (pos < expr.length() && (Character.isLetterOrDigit(expr.charAt(pos)) || expr.charAt(pos) == '_'
        || expr.charAt(pos) == ':')) {
      pos++;
    }
    String word = expr.substring(start, pos);
    String lower = word.toLowerCase(Locale.ROOT);
    skipSpaces();
    char next = pos < expr.length() ? expr.charAt(pos) : ' ';
    if (LABEL_LISTS.contains(lower)) {
      if (next == '(') {
        skipPast(')');
      }
      return;
    }
    if (KEYWORDS.contains(lower) || AGGREGATORS.contains(lower) || next == '(') {
      return; // an operator, or a function or aggregation called here
    }
    found.add(new Selector(word, next == '{' ? matchers() : List.of()));
  }

  /** Reads "{label op "value", ...}" from the opening brace to past the closing one. */
  private List<Matcher> matchers() {
    List<Matcher> matchers = new ArrayList<>();
    pos++;
    while (true) {
      skipSpaces();
      if (pos >= expr.length()) {
        throw new IllegalArgumentException("unclosed '{' in PromQL: " + expr);
      }
      if (expr.charAt(pos) == '}') {
        pos++;
        return matchers;
      }
      if (expr.charAt(pos) == ',') {
        pos++;
        continue;
      }
      int start = pos;
      while (pos < expr.length() && (Character.isLetterOrDigit(expr.charAt(pos)) || expr.charAt(pos) == '_')) {
        pos++;
      }
      String label = expr.substring(start, pos);
      skipSpaces();
      int opStart = pos;
      while (pos < expr.length() && "=!~".indexOf(expr.charAt(pos)) >= 0) {
        pos++;
      }
      String operator = expr.substring(opStart, pos);
      skipSpaces();
      if (label.isEmpty() || !Set.of("=", "!=", "=~", "!~").contains(operator) || pos >= expr.length()
          || "\"'`".indexOf(expr.charAt(pos)) < 0) {
        throw new IllegalArgumentException("expected label=\"value\" at offset " + start + " of PromQL: " + expr);
      }
      matchers.add(new Matcher(label, operator, string()));
    }
  }

  /** Reads a quoted string from its opening quote to past the closing one; returns its text. */
  private String string() {
    char quote = expr.charAt(pos++);
    StringBuilder text = new StringBuilder();
    while (pos < expr.length() && expr.charAt(pos) != quote) {
      if (expr.charAt(pos) == '\\' && quote != '`' && pos + 1 < expr.length()) {
        pos++;
      }
      text.append(expr.charAt(pos++));
    }
    if (pos >= expr.length()) {
      throw new IllegalArgumentException("unclosed string in PromQL: " + expr);
    }
    pos++;
    return text.toString();
  }

  /** Skips from an opening bracket or parenthesis to past its closing {@code close}, strings included. */
  private void skipPast(char close) {
    char open = expr.charAt(pos++);
    int depth = 1;
    while (pos < expr.length()) {
      char c = expr.charAt(pos);
      if (c == '"' || c == '\'' || c == '`') {
        string();
        continue;
      }
      pos++;
      if (c == open) {
        depth++;
      } else if (c == close && --depth == 0) {
        return;
      }
    }
    throw new IllegalArgumentException("unclosed '" + open + "' in PromQL: " + expr);
  }

  private void skipSpaces() {
    while (pos < expr.length() && Character.isWhitespace(expr.charAt(pos))) {
      pos++;
    }
  }
}
