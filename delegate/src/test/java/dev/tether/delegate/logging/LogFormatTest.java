package dev.tether.delegate.logging;

import dev.tether.common.logging.LogFormatContract;
import dev.tether.common.testing.ProgramLogs;
import java.util.Map;

/** The delegate's logging configurator in text and JSON format. */
class LogFormatTest extends LogFormatContract {

  @Override
  protected ProgramLogs programLogs(Map<String, String> variables) {
    return ProgramLogs.configure(new DelegateLogConfigurator()::apply, variables);
  }
}
