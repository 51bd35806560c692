package dev.tether.manager.logging;

import dev.tether.common.logging.LogFormats;
import java.util.Iterator;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/**
 * Reads {@code serve --log-format}: a format {@link LogFormats} knows, in any case, or a refusal
 * naming the value and the formats there are; its values are also the flag's shell completions.
 */
public final class LogFormatOption implements ITypeConverter<String>, Iterable<String> {

  @Override
  public String convert(String value) {
    // blank means "the default" only for the variable; a flag given empty is a mistake
    if (value.isBlank()) {
      throw new TypeConversionException(LogFormats.refusal(value));
    }
    return LogFormats.format(value).orElseThrow(() -> new TypeConversionException(LogFormats.refusal(value)));
  }

  @Override
  public Iterator<String> iterator() {
    return LogFormats.FORMATS.iterator();
  }
}
