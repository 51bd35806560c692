package dev.tether.common.logging;

import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.encoder.Encoder;
import ch.qos.logback.core.encoder.EncoderBase;
import java.util.Optional;

/**
 * The encoder of both programs' stderr appender: it holds a text encoder and a JSON encoder, both
 * configured in logback.xml, and encodes every event with the one the log format names. The
 * format is read from {@code TETHER_LOG_FORMAT} when logback starts and can be switched once the
 * command line is parsed ({@code serve --log-format}) without rebuilding the appender, so no event
 * is lost or written half in one format while it switches. The JSON encoder (an
 * {@link OnDemandJsonEncoder}) is started only when JSON is first used.
 */
public final class FormatSwitchingEncoder extends EncoderBase<ILoggingEvent> {

  private Encoder<ILoggingEvent> text;
  private Encoder<ILoggingEvent> json;
  private volatile String format = LogFormats.TEXT;

  /** The encoder of {@link LogFormats#TEXT}: {@code <text class="...">} in logback.xml. */
  public void setText(Encoder<ILoggingEvent> text) {
    this.text = text;
  }

  /** The encoder of {@link LogFormats#JSON}: {@code <json class="...">} in logback.xml. */
  public void setJson(Encoder<ILoggingEvent> json) {
    this.json = json;
  }

  /**
   * The format in effect at start, from logback.xml. A value that is no format keeps text (the
   * programs refuse it themselves, with a message for their users) and is reported as an error
   * in logback's status.
   */
  public void setFormat(String value) {
    Optional<String> chosen = LogFormats.format(value);
    if (chosen.isEmpty()) {
      addError("<format> " + LogFormats.refusal(value) + "; logging as " + LogFormats.TEXT);
      return;
    }
    format = chosen.get();
  }

  /** The format events are encoded in now: {@link LogFormats#TEXT} or {@link LogFormats#JSON}. */
  public String format() {
    return format;
  }

  /**
   * Encodes the events from now on in {@code value}; events being encoded on other threads finish
   * in the format they started with.
   *
   * @throws IllegalArgumentException when {@code value} names no format
   */
  public void use(String value) {
    String chosen = LogFormats.format(value)
        .orElseThrow(() -> new IllegalArgumentException(LogFormats.refusal(value)));
    startIfUsed(chosen);
    format = chosen;
  }

  /** Starts the encoder of {@code chosen} if it is not running: the JSON one starts only once asked for. */
  private synchronized void startIfUsed(String chosen) {
    Encoder<ILoggingEvent> encoder = LogFormats.JSON.equals(chosen) ? json : text;
    if (encoder != null && !encoder.isStarted()) {
      encoder.start();
    }
  }

  @Override
  public void start() {
    if (text == null || json == null) {
      addError("the encoder needs both a <text> and a <json> encoder");
      return;
    }
    startIfUsed(format);
    super.start();
  }

  @Override
  public void stop() {
    if (text != null) {
      text.stop();
    }
    if (json != null) {
      json.stop();
    }
    super.stop();
  }

  @Override
  public byte[] headerBytes() {
    return current().headerBytes();
  }

  @Override
  public byte[] encode(ILoggingEvent event) {
    return current().encode(event);
  }

  @Override
  public byte[] footerBytes() {
    return current().footerBytes();
  }

  private Encoder<ILoggingEvent> current() {
    return LogFormats.JSON.equals(format) ? json : text;
  }
}
