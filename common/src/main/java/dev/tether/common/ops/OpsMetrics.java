package dev.tether.common.ops;

import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.config.MeterFilter;
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

  /**
   * An empty registry, for code that is measured whether or not anything scrapes it. Micrometer's
   * gRPC interceptors tag in camelCase ({@code methodType}, {@code statusCode}); Prometheus label
   * names are snake_case ({@code promtool check metrics} says so), so those tags are renamed;
   * the CPU count is {@code system_cpus}.
   */
  public static PrometheusMeterRegistry registry() {
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    registry.config()
        .meterFilter(MeterFilter.renameTag("grpc", "methodType", "method_type"))
        .meterFilter(MeterFilter.renameTag("grpc", "statusCode", "status_code"))
        // promtool check metrics: no abbreviated unit in a name (process_cpu_time_ns_total; the
        // process_cpu_usage gauge says the same) and no _count suffix outside histograms
        .meterFilter(MeterFilter.denyNameStartsWith("process.cpu.time"))
        .meterFilter(new MeterFilter() {
          @Override
          public Meter.Id map(Meter.Id id) {
            return id.getName().equals("system.cpu.count") ? id.withName("system.cpus") : id;
          }
        });
    return registry;
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
