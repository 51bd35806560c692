package dev.tether.manager.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.protobuf.ByteString;
import com.google.protobuf.Descriptors.EnumValueDescriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.Message;
import java.io.IOException;
import java.time.OffsetDateTime;
import java.util.Base64;

/**
 * Reads the admin commands' {@code --json} output (docs/cli-output.md) back into the response
 * message it was written from, for Java programs and tests that drive the CLI; names it does not
 * know (such as install-files' list of files) are skipped.
 */
public final class CliJson {

  private static final ObjectMapper MAPPER = new ObjectMapper();

  private CliJson() {}

  /** The message of type {@code prototype} that {@code json} describes. */
  public static <T extends Message> T read(String json, T prototype) throws IOException {
    Message.Builder builder = prototype.newBuilderForType();
    merge(MAPPER.readTree(json), builder);
    @SuppressWarnings("unchecked")
    T message = (T) builder.build();
    return message;
  }

  private static void merge(JsonNode object, Message.Builder builder) throws IOException {
    if (!object.isObject()) {
      throw new IOException("expected a JSON object for " + builder.getDescriptorForType().getName());
    }
    for (FieldDescriptor field : builder.getDescriptorForType().getFields()) {
      JsonNode node = object.get(Output.name(field));
      if (node == null || node.isNull()) {
        continue;
      }
      if (field.isRepeated()) {
        for (JsonNode element : node) {
          builder.addRepeatedField(field, value(field, element, builder));
        }
      } else {
        builder.setField(field, value(field, node, builder));
      }
    }
  }

  private static Object value(FieldDescriptor field, JsonNode node, Message.Builder parent) throws IOException {
    return switch (field.getJavaType()) {
      case MESSAGE -> {
        Message.Builder child = parent.newBuilderForField(field);
        merge(node, child);
        yield child.build();
      }
      case ENUM -> {
        EnumValueDescriptor value = field.getEnumType().findValueByName(node.asText());
        if (value == null) {
          throw new IOException(node.asText() + " is not a " + field.getEnumType().getName());
        }
        yield value;
      }
      case STRING -> node.asText();
      case BOOLEAN -> node.asBoolean();
      case LONG -> Output.isTime(field) ? OffsetDateTime.parse(node.asText()).toInstant().toEpochMilli()
          : node.asLong();
      case INT -> (int) node.asLong();
      case FLOAT -> (float) node.asDouble();
      case DOUBLE -> node.asDouble();
      case BYTE_STRING -> ByteString.copyFrom(Base64.getDecoder().decode(node.asText()));
    };
  }
}
