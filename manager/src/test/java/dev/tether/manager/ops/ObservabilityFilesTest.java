package dev.tether.manager.ops;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import dev.tether.manager.ops.PromQlSelectors.Matcher;
import dev.tether.manager.ops.PromQlSelectors.Selector;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The operator files under deploy/: the Prometheus alert rules pass promtool's checks and their
 * promtool unit tests, the example Prometheus configuration passes promtool, and the rules and the
 * Grafana dashboard read only the metrics docs/observability.md documents, of the job
 * "tether-manager".
 */
class ObservabilityFilesTest {

  private static final Path DEPLOY = Path.of(System.getProperty("user.dir")).resolve("../deploy").normalize();
  private static final Path RULES = DEPLOY.resolve("prometheus/tether-alerts.yml");
  private static final Path RULE_TESTS = DEPLOY.resolve("prometheus/tether-alerts.test.yml");
  private static final Path EXAMPLE_CONFIG = DEPLOY.resolve("prometheus/prometheus.example.yml");
  private static final Path DASHBOARD = DEPLOY.resolve("grafana/tether-dashboard.json");
  private static final Path YAMLLINT_CONFIG = DEPLOY.resolve(".yamllint");

  /** The job every rule and panel selects: the documented convention for scraping managers. */
  private static final String JOB = "tether-manager";

  /** Counters and gauges of docs/observability.md, and Prometheus's own {@code up}. */
  private static final Set<String> PLAIN_METRICS = Set.of(
      "tether_delegates_connected", "tether_handshakes_total", "tether_heartbeats_total", "tether_revocations_total",
      "tether_streams_closed_by_revocation_total", "tether_store_errors_total", "tether_replicas_live",
      "tether_revocations_in_doubt",
      "tether_admin_calls_total", "tether_admin_auth_failures_total",
      "grpc_server_requests_received_messages_total", "grpc_server_responses_sent_messages_total",
      "jvm_memory_used_bytes", "jvm_memory_max_bytes", "jvm_threads_live_threads", "process_cpu_usage",
      "process_uptime_seconds", "process_files_open_files", "process_files_max_files",
      "up");
  /** Histograms: each has _bucket, _count, _sum and Micrometer's _max. */
  private static final Set<String> HISTOGRAMS = Set.of(
      "tether_handshake_duration_seconds", "tether_heartbeat_ack_seconds", "tether_revocation_duration_seconds",
      "tether_store_commit_duration_seconds", "tether_cluster_notification_lag_seconds",
      "tether_registration_duration_seconds", "tether_registrations_per_commit");
  /** Timers exported without buckets: _count, _sum and _max. */
  private static final Set<String> SUMMARIES = Set.of(
      "jvm_gc_pause_seconds", "grpc_server_processing_duration_seconds");
  private static final Set<String> DOCUMENTED_METRICS = documentedMetrics();

  private static final YAMLMapper YAML = new YAMLMapper();
  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir Path temp;

  // ---- the alert rules

  @Test
  void alertRules_passPromtoolCheckRules() {
    ToolRun run = ToolRun.of("promtool", "check", "rules", RULES.toString());
    assertThat(run.exitCode()).as(run.output()).isZero();
    assertThat(run.output()).contains("SUCCESS: " + alerts().size() + " rules found");
  }

  @Test
  void alertRules_passTheirPromtoolUnitTests() {
    ToolRun run = ToolRun.of("promtool", "test", "rules", RULE_TESTS.toString());
    assertThat(run.exitCode()).as(run.output()).isZero();
    assertThat(run.output()).contains("SUCCESS");
  }

  @Test
  void ruleUnitTests_makeEveryAlertFire_andShowItSilentOnALookAlike() throws IOException {
    JsonNode tests = YAML.readTree(RULE_TESTS.toFile());
    assertThat(tests.path("rule_files")).extracting(JsonNode::asText).containsExactly(RULES.getFileName().toString());
    Set<String> fires = new TreeSet<>();
    Set<String> silent = new TreeSet<>();
    for (JsonNode test : tests.path("tests")) {
      for (JsonNode ruleTest : test.path("alert_rule_test")) {
        String alert = ruleTest.path("alertname").asText();
        (ruleTest.path("exp_alerts").isEmpty() ? silent : fires).add(alert);
      }
    }
    Set<String> alerts = alerts().keySet();
    assertThat(fires).as("alerts some test case expects to fire").isEqualTo(new TreeSet<>(alerts));
    assertThat(silent).as("alerts some test case expects to stay silent").isEqualTo(new TreeSet<>(alerts));
  }

  @Test
  void alertRules_readOnlyDocumentedMetrics_ofTheTetherManagerJob() {
    for (Map.Entry<String, JsonNode> alert : alerts().entrySet()) {
      String expr = alert.getValue().path("expr").asText();
      checkSelectors(alert.getKey(), expr, List.of(new Matcher("job", "=", JOB)));
    }
  }

  @Test
  void alertRules_haveASeverity_aForDuration_andAnnotationsWithTheirRunbook() {
    Map<String, JsonNode> alerts = alerts();
    assertThat(alerts).hasSizeGreaterThanOrEqualTo(8);
    for (Map.Entry<String, JsonNode> entry : alerts.entrySet()) {
      String name = entry.getKey();
      JsonNode rule = entry.getValue();
      assertThat(name).as("alert name").matches("Tether[A-Za-z]+");
      assertThat(rule.path("labels").path("severity").asText()).as(name + " severity").isIn("critical", "warning");
      // without a for, one odd evaluation pages someone
      assertThat(seconds(rule.path("for").asText())).as(name + " for").isGreaterThanOrEqualTo(60);
      JsonNode annotations = rule.path("annotations");
      assertThat(annotations.path("summary").asText()).as(name + " summary").isNotBlank();
      assertThat(annotations.path("description").asText()).as(name + " description").isNotBlank()
          .containsAnyOf("$value", "$labels");
      assertThat(annotations.path("runbook").asText()).as(name + " runbook")
          .isEqualTo("docs/observability.md#" + name.toLowerCase(Locale.ROOT));
    }
  }

  // ---- the example Prometheus configuration

  @Test
  void exampleConfig_passesPromtoolCheckConfig_withTheRulesItLoads() {
    ToolRun run = ToolRun.of("promtool", "check", "config", EXAMPLE_CONFIG.toString());
    assertThat(run.exitCode()).as(run.output()).isZero();
    assertThat(run.output()).contains("SUCCESS: 1 rule files found")
        .contains("SUCCESS: " + alerts().size() + " rules found");
  }

  @Test
  void exampleConfig_scrapesTheOpsListenerInTheTetherManagerJob() throws IOException {
    JsonNode config = YAML.readTree(EXAMPLE_CONFIG.toFile());
    assertThat(config.path("rule_files")).extracting(JsonNode::asText).containsExactly("tether-alerts.yml");
    List<JsonNode> jobs = new ArrayList<>();
    config.path("scrape_configs").forEach(jobs::add);
    assertThat(jobs).extracting(job -> job.path("job_name").asText()).containsExactly(JOB);
    JsonNode job = jobs.get(0);
    assertThat(job.path("metrics_path").asText("/metrics")).isEqualTo("/metrics");
    assertThat(job.path("static_configs").get(0).path("targets")).extracting(JsonNode::asText)
        .containsExactly("127.0.0.1:9464");
  }

  @Test
  void deployYaml_passesYamllint() {
    ToolRun run = ToolRun.of("yamllint", "--strict", "-c", YAMLLINT_CONFIG.toString(), RULES.toString(),
        RULE_TESTS.toString(), EXAMPLE_CONFIG.toString());
    assertThat(run.exitCode()).as(run.output()).isZero();
  }

  // ---- the Grafana dashboard

  @Test
  void dashboard_everyPanelHasATitle_thePrometheusDatasource_andAUniqueId() throws IOException {
    JsonNode dashboard = JSON.readTree(DASHBOARD.toFile());
    assertThat(dashboard.path("schemaVersion").asInt()).isEqualTo(39);
    assertThat(dashboard.path("uid").asText()).isEqualTo("tether-manager");
    assertThat(dashboard.path("title").asText()).isNotBlank();
    List<JsonNode> panels = panels(dashboard);
    assertThat(panels).hasSizeGreaterThan(10);
    Set<Integer> ids = new HashSet<>();
    for (JsonNode panel : panels) {
      String title = panel.path("title").asText();
      assertThat(title).as("title of panel " + panel.path("id")).isNotBlank();
      assertThat(panel.path("id").isInt()).as(title + " id").isTrue();
      assertThat(ids.add(panel.path("id").asInt())).as("id " + panel.path("id") + " of " + title + " is unique")
          .isTrue();
      if (isRow(panel)) {
        continue;
      }
      checkDatasource(title, panel.path("datasource"));
      assertThat(panel.path("targets")).as(title + " targets").isNotEmpty();
      Set<String> refIds = new HashSet<>();
      for (JsonNode target : panel.path("targets")) {
        checkDatasource(title + " " + target.path("refId").asText(), target.path("datasource"));
        assertThat(refIds.add(target.path("refId").asText())).as(title + " refId unique").isTrue();
      }
    }
  }

  @Test
  void dashboard_panelsReadOnlyDocumentedMetrics_ofTheSelectedInstances_andEveryTetherMetric() throws IOException {
    List<Matcher> required = List.of(new Matcher("job", "=", JOB), new Matcher("instance", "=~", "$instance"));
    Set<String> used = new TreeSet<>();
    for (JsonNode panel : panels(JSON.readTree(DASHBOARD.toFile()))) {
      for (JsonNode target : panel.path("targets")) {
        String expr = target.path("expr").asText();
        checkSelectors(panel.path("title").asText(), expr, required)
            .forEach(selector -> used.add(baseName(selector.metric())));
      }
    }
    Set<String> tetherMetrics = new TreeSet<>();
    for (String metric : DOCUMENTED_METRICS) {
      if (metric.startsWith("tether_")) {
        tetherMetrics.add(baseName(metric));
      }
    }
    assertThat(used).as("metrics the dashboard shows").containsAll(tetherMetrics)
        .contains("jvm_memory_used_bytes", "jvm_gc_pause_seconds", "process_files_open_files", "process_files_max_files");
  }

  @Test
  void dashboard_hasADatasourceVariable_andAnInstanceVariableOfTheManagerJob() throws IOException {
    Map<String, JsonNode> variables = new LinkedHashMap<>();
    JSON.readTree(DASHBOARD.toFile()).path("templating").path("list")
        .forEach(variable -> variables.put(variable.path("name").asText(), variable));
    assertThat(variables).containsOnlyKeys("datasource", "instance");
    JsonNode datasource = variables.get("datasource");
    assertThat(datasource.path("type").asText()).isEqualTo("datasource");
    assertThat(datasource.path("query").asText()).isEqualTo("prometheus");
    JsonNode instance = variables.get("instance");
    assertThat(instance.path("type").asText()).isEqualTo("query");
    checkDatasource("variable instance", instance.path("datasource"));
    assertThat(instance.path("includeAll").asBoolean()).isTrue();
    assertThat(instance.path("allValue").asText()).isEqualTo(".*");
    String query = instance.path("query").path("query").asText();
    assertThat(query).isEqualTo(instance.path("definition").asText());
    java.util.regex.Matcher labelValues = Pattern.compile("label_values\\((.+),\\s*instance\\)").matcher(query);
    assertThat(labelValues.matches()).as(query).isTrue();
    checkSelectors("variable instance", labelValues.group(1), List.of(new Matcher("job", "=", JOB)));
  }

  @Test
  void dashboard_panelsDoNotOverlap_andFitTheGrid() throws IOException {
    List<int[]> boxes = new ArrayList<>();
    for (JsonNode panel : panels(JSON.readTree(DASHBOARD.toFile()))) {
      JsonNode grid = panel.path("gridPos");
      int[] box = {grid.path("x").asInt(), grid.path("y").asInt(), grid.path("w").asInt(), grid.path("h").asInt()};
      String title = panel.path("title").asText();
      assertThat(box[2]).as(title + " width").isPositive();
      assertThat(box[3]).as(title + " height").isPositive();
      assertThat(box[0] + box[2]).as(title + " right edge").isLessThanOrEqualTo(24);
      for (int[] other : boxes) {
        boolean apart = box[0] + box[2] <= other[0] || other[0] + other[2] <= box[0]
            || box[1] + box[3] <= other[1] || other[1] + other[3] <= box[1];
        assertThat(apart).as(title + " overlaps the panel at x=" + other[0] + " y=" + other[1]).isTrue();
      }
      boxes.add(box);
    }
  }

  @Test
  void dashboard_queriesAreValidPromQl() throws IOException {
    // Grafana's variables replaced by values Prometheus would get, each query as a recording rule
    ArrayNode rules = YAML.createArrayNode();
    for (JsonNode panel : panels(JSON.readTree(DASHBOARD.toFile()))) {
      for (JsonNode target : panel.path("targets")) {
        String expr = target.path("expr").asText().replace("$__rate_interval", "1m").replace("$instance", ".*");
        assertThat(expr).as(panel.path("title").asText() + ": a Grafana variable other than $instance and"
            + " $__rate_interval").doesNotContain("$");
        ObjectNode rule = rules.addObject();
        rule.put("record", "dashboard:panel" + panel.path("id").asInt() + "_" + target.path("refId").asText());
        rule.put("expr", expr);
      }
    }
    ObjectNode file = YAML.createObjectNode();
    file.putArray("groups").addObject().put("name", "dashboard").set("rules", rules);
    Path asRules = temp.resolve("dashboard-queries.yml");
    YAML.writeValue(asRules.toFile(), file);

    ToolRun run = ToolRun.of("promtool", "check", "rules", asRules.toString());
    assertThat(run.exitCode()).as(run.output()).isZero();
    assertThat(run.output()).contains("SUCCESS: " + rules.size() + " rules found");
  }

  // ---- the selector scanner the checks above rely on

  @Test
  void promQlSelectors_findEveryMetricWithItsMatchers_andNoFunctionLabelOrKeyword() {
    String expr = """
        sum by (job, le) (rate(foo_bucket{job="tether-manager", x=~"a{b},c\\"d"}[5m] offset 1h))
        / on (job) group_left (le) bar # not_a_metric{job="x"}
        + 0.75 * max_over_time(baz {job!="x"}[1h:1m]) and ignoring (le) 1e3 < bool qux
        or label_replace(up, "dst", "$1", "src", "(.*)") unless count without (instance) (ALERTS)
        """;
    List<Selector> selectors = PromQlSelectors.of(expr);
    assertThat(selectors).extracting(Selector::metric).containsExactly("foo_bucket", "bar", "baz", "qux", "up",
        "ALERTS");
    assertThat(selectors.get(0).matchers()).containsExactly(new Matcher("job", "=", "tether-manager"),
        new Matcher("x", "=~", "a{b},c\"d"));
    assertThat(selectors.get(2).has("job", "!=", "x")).isTrue();
    assertThat(PromQlSelectors.of("{job=\"x\"}")).extracting(Selector::metric).containsOnlyNulls();
    assertThatThrownBy(() -> PromQlSelectors.of("rate(foo{job=\"x\"[5m])"))
        .isInstanceOf(IllegalArgumentException.class);
  }

  // ---- helpers

  /** Checks that {@code expr} names at least one metric, only documented ones, each with {@code required}. */
  private static List<Selector> checkSelectors(String where, String expr, List<Matcher> required) {
    List<Selector> selectors = PromQlSelectors.of(expr);
    assertThat(selectors).as(where + ": metrics named in " + expr).isNotEmpty();
    for (Selector selector : selectors) {
      assertThat(selector.metric()).as(where + ": a metric of docs/observability.md in " + expr)
          .isIn(DOCUMENTED_METRICS);
      assertThat(selector.matchers()).as(where + ": matchers of " + selector.metric() + " in " + expr)
          .containsAll(required);
    }
    return selectors;
  }

  private static void checkDatasource(String where, JsonNode datasource) {
    assertThat(datasource.path("type").asText()).as(where + " datasource type").isEqualTo("prometheus");
    assertThat(datasource.path("uid").asText()).as(where + " datasource uid").isEqualTo("${datasource}");
  }

  /** The alerting rules by name, in file order. */
  private static Map<String, JsonNode> alerts() {
    Map<String, JsonNode> alerts = new LinkedHashMap<>();
    try {
      for (JsonNode group : YAML.readTree(RULES.toFile()).path("groups")) {
        for (JsonNode rule : group.path("rules")) {
          String name = rule.path("alert").asText();
          assertThat(name).as("every rule is an alert: " + rule).isNotBlank();
          assertThat(alerts.put(name, rule)).as("alert " + name + " defined once").isNull();
        }
      }
    } catch (IOException e) {
      throw new AssertionError("cannot read " + RULES, e);
    }
    assertThat(alerts).as("alerts in " + RULES).isNotEmpty();
    return alerts;
  }

  /** Every panel, rows and the panels inside collapsed rows included. */
  private static List<JsonNode> panels(JsonNode dashboard) {
    List<JsonNode> panels = new ArrayList<>();
    for (JsonNode panel : dashboard.path("panels")) {
      panels.add(panel);
      panel.path("panels").forEach(panels::add);
    }
    return panels;
  }

  private static boolean isRow(JsonNode panel) {
    return "row".equals(panel.path("type").asText());
  }

  private static String baseName(String metric) {
    for (String base : HISTOGRAMS) {
      if (metric.startsWith(base + "_")) {
        return base;
      }
    }
    for (String base : SUMMARIES) {
      if (metric.startsWith(base + "_")) {
        return base;
      }
    }
    return metric;
  }

  private static Set<String> documentedMetrics() {
    Set<String> metrics = new LinkedHashSet<>(PLAIN_METRICS);
    for (String base : HISTOGRAMS) {
      Stream.of("_bucket", "_count", "_sum", "_max").forEach(suffix -> metrics.add(base + suffix));
    }
    for (String base : SUMMARIES) {
      Stream.of("_count", "_sum", "_max").forEach(suffix -> metrics.add(base + suffix));
    }
    return Set.copyOf(metrics);
  }

  /** A Prometheus duration such as 90s, 5m or 1h, in seconds. */
  private static long seconds(String duration) {
    java.util.regex.Matcher m = Pattern.compile("(\\d+)([smh])").matcher(duration);
    assertThat(m.matches()).as("a duration like 5m: '" + duration + "'").isTrue();
    long n = Long.parseLong(m.group(1));
    return switch (m.group(2)) {
      case "s" -> n;
      case "m" -> n * 60;
      default -> n * 3600;
    };
  }

  /**
   * Runs an external checker (promtool, yamllint). CI installs them and sets TETHER_REQUIRE_LINTERS=1,
   * so there a missing one fails the test; elsewhere the test is skipped with a message saying what
   * to install (the convention of manager/install/Linters).
   */
  private record ToolRun(int exitCode, String output) {

    static ToolRun of(String tool, String... args) {
      if (!installed(tool)) {
        boolean required = "1".equals(System.getenv("TETHER_REQUIRE_LINTERS"));
        assertThat(required).as(tool + " is required (TETHER_REQUIRE_LINTERS=1) but not installed").isFalse();
        String debianPackage = "promtool".equals(tool) ? "prometheus" : tool;
        Assumptions.abort(tool + " is not installed; install it (apt-get install --no-install-recommends "
            + debianPackage + ") to run this check");
      }
      List<String> command = new ArrayList<>(List.of(tool));
      command.addAll(List.of(args));
      try {
        Path output = Files.createTempFile(tool, ".out");
        try {
          Process process = new ProcessBuilder(command).directory(DEPLOY.toFile()).redirectErrorStream(true)
              .redirectOutput(output.toFile()).start();
          if (!process.waitFor(60, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new AssertionError(String.join(" ", command) + " did not end within 60 s");
          }
          return new ToolRun(process.exitValue(), Files.readString(output, StandardCharsets.UTF_8));
        } finally {
          Files.delete(output);
        }
      } catch (IOException e) {
        throw new AssertionError(String.join(" ", command) + " could not run", e);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError(e);
      }
    }

    private static boolean installed(String tool) {
      for (String dir : System.getenv().getOrDefault("PATH", "").split(":")) {
        if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, tool))) {
          return true;
        }
      }
      return false;
    }
  }
}
