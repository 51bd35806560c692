package dev.tether.manager.cli;

import com.fasterxml.jackson.core.SerializableString;
import com.fasterxml.jackson.core.io.CharacterEscapes;
import com.fasterxml.jackson.core.io.SerializedString;
import com.fasterxml.jackson.core.util.DefaultIndenter;
import com.fasterxml.jackson.core.util.DefaultPrettyPrinter;
import com.fasterxml.jackson.core.util.Separators;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.protobuf.ByteString;
import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.EnumValueDescriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.MessageOrBuilder;
import dev.tether.common.text.UserText;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What an admin command returns, as {@code --json} prints it and {@code --field} reads it: one
 * tree built from the response message by one naming rule (docs/cli-output.md), so that the two
 * options always agree on names and values.
 *
 * <p>The rule: a field keeps its proto name; an {@code int64} field named {@code X_unix_ms} is a
 * time and becomes {@code X}, an RFC 3339 string in UTC with milliseconds; other numbers stay
 * numbers (never strings); enums are their names; booleans and lists are always present; an empty
 * string, an unset time and an unset message are left out.
 */
final class Output {

  private static final String TIME_SUFFIX = "_unix_ms";
  private static final DateTimeFormatter RFC_3339 =
      DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss.SSS'Z'").withZone(ZoneOffset.UTC);

  private final MessageOrBuilder message;
  /** Fields beyond the message's, in order: a String, or a List of Strings. */
  private final Map<String, Object> extras;
  private final List<String> fields;

  private Output(MessageOrBuilder message, Map<String, Object> extras, List<String> fields) {
    this.message = message;
    this.extras = extras;
    this.fields = fields;
  }

  /** The output of a command whose result is {@code message}. */
  static Output of(MessageOrBuilder message) {
    return new Output(message, Map.of(), fieldNames(message.getDescriptorForType()));
  }

  /** This output with a text field {@code name} added (left out when empty, as above). */
  Output with(String name, String value) {
    return plus(name, value == null ? "" : value);
  }

  /** This output with a list of texts {@code name} added. */
  Output withList(String name, List<String> values) {
    return plus(name, List.copyOf(values));
  }

  private Output plus(String name, Object value) {
    Map<String, Object> more = new LinkedHashMap<>(extras);
    more.put(name, value);
    List<String> names = new ArrayList<>(fields);
    names.add(name);
    return new Output(message, more, List.copyOf(names));
  }

  /** The JSON tree, built only for --json and --field: a table needs none of Jackson. */
  private ObjectNode tree() {
    ObjectNode tree = tree(message);
    extras.forEach((name, value) -> {
      if (value instanceof List<?> list) {
        ArrayNode array = tree.putArray(name);
        list.forEach(v -> array.add((String) v));
      } else if (!((String) value).isEmpty()) {
        tree.put(name, (String) value);
      }
    });
    return tree;
  }

  /** Every name {@code --field} accepts here, in message order, nested ones dotted. */
  List<String> fields() {
    return fields;
  }

  /** The whole result as indented JSON, without a trailing newline. */
  String json() {
    try {
      return Json.MAPPER.writer(prettyPrinter()).writeValueAsString(tree());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * The raw values of one field: one for a single field (none when it is not set), one per element
   * for a list or a field inside a list. A message prints as one line of JSON.
   */
  List<String> field(String name) {
    check(fields, name);
    List<JsonNode> nodes = List.of(tree());
    for (String part : name.split("\\.")) {
      List<JsonNode> next = new ArrayList<>();
      for (JsonNode node : nodes) {
        JsonNode child = node.get(part);
        if (child == null || child.isNull()) {
          continue;
        }
        if (child.isArray()) {
          child.forEach(next::add);
        } else {
          next.add(child);
        }
      }
      nodes = next;
    }
    List<String> values = new ArrayList<>();
    for (JsonNode node : nodes) {
      values.add(node.isContainerNode() ? compact(node) : node.asText());
    }
    return values;
  }

  /** Refuses a {@code --field} name that is not in {@code fields}, listing the valid ones. */
  static void check(List<String> fields, String name) {
    if (!fields.contains(name)) {
      throw new CliException("--field " + UserText.quote(name) + " is not a field of this command's result"
          + " (expected one of: " + String.join(", ", fields) + "; see docs/cli-output.md)");
    }
  }

  /** Every field name of {@code type} and of the messages inside it, nested ones dotted. */
  static List<String> fieldNames(Descriptor type) {
    List<String> names = new ArrayList<>();
    collect(type, "", names, 0);
    return List.copyOf(names);
  }

  private static void collect(Descriptor type, String prefix, List<String> names, int depth) {
    for (FieldDescriptor field : type.getFields()) {
      String name = prefix + name(field);
      names.add(name);
      // the admin messages are not recursive; the depth bound only guards against a future one
      if (field.getJavaType() == FieldDescriptor.JavaType.MESSAGE && depth < 4) {
        collect(field.getMessageType(), name + ".", names, depth + 1);
      }
    }
  }

  private static ObjectNode tree(MessageOrBuilder message) {
    ObjectNode node = JsonNodeFactory.instance.objectNode();
    for (FieldDescriptor field : message.getDescriptorForType().getFields()) {
      if (field.isRepeated()) {
        ArrayNode array = node.putArray(name(field));
        for (int i = 0; i < message.getRepeatedFieldCount(field); i++) {
          array.add(value(field, message.getRepeatedField(field, i)));
        }
        continue;
      }
      if (field.hasPresence() && !message.hasField(field)) {
        continue;
      }
      JsonNode value = value(field, message.getField(field));
      if (value != null) {
        node.set(name(field), value);
      }
    }
    return node;
  }

  /** The JSON of one value; null for a value that is left out (an empty string or an unset time). */
  private static JsonNode value(FieldDescriptor field, Object value) {
    JsonNodeFactory nodes = JsonNodeFactory.instance;
    return switch (field.getJavaType()) {
      case MESSAGE -> tree((MessageOrBuilder) value);
      case ENUM -> nodes.textNode(((EnumValueDescriptor) value).getName());
      case STRING -> ((String) value).isEmpty() ? null : nodes.textNode((String) value);
      case BOOLEAN -> nodes.booleanNode((Boolean) value);
      case LONG -> {
        long n = (Long) value;
        if (isTime(field)) {
          yield n == 0 ? null : nodes.textNode(RFC_3339.format(Instant.ofEpochMilli(n)));
        }
        yield unsigned(field) ? nodes.numberNode(new java.math.BigInteger(Long.toUnsignedString(n))) : nodes.numberNode(n);
      }
      case INT -> unsigned(field) ? nodes.numberNode(Integer.toUnsignedLong((Integer) value))
          : nodes.numberNode((Integer) value);
      case FLOAT -> nodes.numberNode((Float) value);
      case DOUBLE -> nodes.numberNode((Double) value);
      case BYTE_STRING -> ((ByteString) value).isEmpty() ? null
          : nodes.textNode(Base64.getEncoder().encodeToString(((ByteString) value).toByteArray()));
    };
  }

  static boolean isTime(FieldDescriptor field) {
    return field.getJavaType() == FieldDescriptor.JavaType.LONG && field.getName().endsWith(TIME_SUFFIX);
  }

  private static boolean unsigned(FieldDescriptor field) {
    return switch (field.getType()) {
      case UINT32, UINT64, FIXED32, FIXED64 -> true;
      default -> false;
    };
  }

  static String name(FieldDescriptor field) {
    String name = field.getName();
    return isTime(field) ? name.substring(0, name.length() - TIME_SUFFIX.length()) : name;
  }

  private static String compact(JsonNode node) {
    try {
      return Json.MAPPER.writeValueAsString(node);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Holds the mapper, created on first use only. */
  private static final class Json {
    static final ObjectMapper MAPPER = new ObjectMapper();

    static {
      MAPPER.getFactory().setCharacterEscapes(new Escapes());
    }
  }

  /** Two-space indents, {@code "name": value}, one list element per line. */
  private static DefaultPrettyPrinter prettyPrinter() {
    DefaultPrettyPrinter printer = new DefaultPrettyPrinter(Separators.createDefaultInstance()
        .withObjectFieldValueSpacing(Separators.Spacing.AFTER));
    printer.indentArraysWith(DefaultIndenter.SYSTEM_LINEFEED_INSTANCE);
    return printer;
  }

  /**
   * JSON's own escapes, plus {@code \\uXXXX} for any character that is not printable text (format
   * characters such as U+202E, line separators, unassigned code points): a name a delegate chose
   * cannot reorder or split what a terminal shows. Printable characters, {@code =} included, stay
   * as they are.
   */
  private static final class Escapes extends CharacterEscapes {
    private static final long serialVersionUID = 1L;
    private final int[] ascii = standardAsciiEscapesForJSON();

    @Override
    public int[] getEscapeCodesForAscii() {
      return ascii;
    }

    @Override
    public SerializableString getEscapeSequence(int ch) {
      // Jackson hands over UTF-16 units: a surrogate is escaped on its own, which JSON readers join again
      if (ch < 0x80 || (!Character.isSurrogate((char) ch) && UserText.isPrintable(ch))) {
        return null;
      }
      return new SerializedString(String.format("\\u%04x", ch));
    }
  }
}
