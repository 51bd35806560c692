package dev.tether.common.logging;

import ch.qos.logback.core.joran.spi.NoAutoStart;
import net.logstash.logback.encoder.LoggingEventCompositeJsonEncoder;

/**
 * The JSON encoder of {@link FormatSwitchingEncoder}: logstash-logback-encoder's composite JSON
 * encoder, configured in logback.xml as that one is, but started only when JSON is asked for, so
 * that a program logging text does not pay for starting Jackson.
 */
@NoAutoStart
public final class OnDemandJsonEncoder extends LoggingEventCompositeJsonEncoder {}
