package dev.tether.bench;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.node.ObjectNode;

/** The one-line JSON result a scenario prints last; records inside it get snake_case keys. */
final class Json {

  private static final ObjectMapper MAPPER = new ObjectMapper()
      .setPropertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE);

  private final ObjectNode root = MAPPER.createObjectNode();

  Json(String scenario, boolean quick) {
    root.put("scenario", scenario);
    root.put("quick", quick);
  }

  Json put(String key, long value) {
    root.put(key, value);
    return this;
  }

  /** Rounded to three decimals: the figures are not that precise. Not measured (NaN): null. */
  Json put(String key, double value) {
    if (Double.isNaN(value)) {
      root.putNull(key);
      return this;
    }
    root.put(key, Math.round(value * 1000) / 1000.0);
    return this;
  }

  Json put(String key, String value) {
    root.put(key, value);
    return this;
  }

  /** Any value Jackson can write: lists, maps, records. */
  Json putValue(String key, Object value) {
    root.set(key, MAPPER.valueToTree(value));
    return this;
  }

  @Override
  public String toString() {
    try {
      return MAPPER.writeValueAsString(root);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }
}
