package dev.tether.manager.logging;

import dev.tether.common.logging.LogFormatContract;
import java.net.URL;

/** The manager's logback.xml in text and JSON format. */
class LogFormatTest extends LogFormatContract {

  @Override
  protected URL logbackXml() {
    return RootLogLevel.class.getResource("/logback.xml");
  }
}
