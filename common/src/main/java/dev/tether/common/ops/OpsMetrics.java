package dev.tether.common.ops;

import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.FileDescriptorMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;

/** The registries both programs scrape: Micrometer's Prometheus registry with the JVM and process binders. */
public final class OpsMetrics {

  private OpsMetrics() {}

  /** An empty registry, for code that is measured whether or not anything scrapes it. */
  public static PrometheusMeterRegistry registry() {
    return new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
  }

  /**
   * Adds heap and non-heap memory, GC pauses, threads, loaded classes, CPU, uptime, and open file
   * descriptors against their limit ({@code process_files_open_files}, {@code process_files_max_files}).
   * The GC binder listens to the JVM until the program ends.
   */
  @SuppressWarnings("resource")
  public static PrometheusMeterRegistry withJvmAndProcess(PrometheusMeterRegistry registry) {
    new JvmMemoryMetrics().bindTo(registry);
    new JvmGcMetrics().bindTo(registry);
    new JvmThreadMetrics().bindTo(registry);
    new ClassLoaderMetrics().bindTo(registry);
    new ProcessorMetrics().bindTo(registry);
    new UptimeMetrics().bindTo(registry);
    new FileDescriptorMetrics().bindTo(registry);
    return registry;
  }
}
