package dev.tether.manager.logging;

import dev.tether.common.logging.LogFormatContract;
import dev.tether.common.testing.ProgramLogs;
import java.util.Map;

/** The manager's logback.xml in text and JSON format. */
class LogFormatTest extends LogFormatContract {

  @Override
  protected ProgramLogs programLogs(Map<String, String> variables) throws Exception {
    return ProgramLogs.configure(RootLogLevel.class.getResource("/logback.xml"), variables);
  }
}
