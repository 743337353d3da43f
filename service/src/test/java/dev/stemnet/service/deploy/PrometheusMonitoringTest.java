package dev.stemnet.service.deploy;

import static dev.stemnet.service.deploy.RenderedChart.get;
import static dev.stemnet.service.deploy.RenderedChart.list;
import static dev.stemnet.service.deploy.RenderedChart.map;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.fail;

import dev.stemnet.service.Polling;
import dev.stemnet.service.StemNetServiceApplication;
import dev.stemnet.service.TestBundle;
import dev.stemnet.service.TestDelta;
import dev.stemnet.service.config.RedisDeltaCommand;
import dev.stemnet.service.embedding.redis.RedisServiceProperties;
import dev.stemnet.service.embedding.redis.TestRedis;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;
import org.yaml.snakeyaml.Yaml;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * The alert rules and the Grafana dashboard against a real Prometheus (Debian's {@code prometheus} package)
 * scraping the running service while traffic flows: the service runs with the configuration the chart's ConfigMap
 * renders (a two-arm experiment on copies of the test bundle, so per-arm series exist; the Redis store, on a local
 * Redis holding both copies, as only its row caches report the cache series), Prometheus scrapes it every second
 * and loads the rules file, and every panel query and alert expression is evaluated over the HTTP API.
 * A panel whose query returns nothing is a broken panel.
 */
class PrometheusMonitoringTest {

    private static final String ADMIN_TOKEN = "monitoring-admin";
    private static final Duration DATA_DEADLINE = Duration.ofSeconds(120);
    private static final JsonMapper JSON = JsonMapper.builder().build();
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    /** Grafana's variables, as the dashboard's "All" selection and a rate window of several 1 s scrapes resolve them. */
    private static final Map<String, String> DASHBOARD_VARIABLES =
            Map.of("$__rate_interval", "20s", "$namespace", ".*", "$job", ".*");
    /** Alerts whose watched series this test cannot produce, and where they are exercised instead. */
    private static final Map<String, String> NOT_PRODUCED_HERE = Map.of("StemNetEmbeddingStoreErrors",
            "stem_embedding_store_errors_total starts with the first failed Redis fetch, and none fails here;"
                    + " RedisOutageTest and RedisEmbeddingStoreTest check the counter",
            "StemNetDeltaRefused",
            "with the Redis store the loader command refuses a bad delta before any replica sees it; DeltaApiTest checks"
                    + " the service's counter, prometheus-rules.test.yaml the alert");
    private static final String CHART_VALUES = """
            experiments:
              config: |
                version: monitoring-1
                layers:
                  - name: model
                    salt: monitoring-1
                    buckets: 1000
                    arms:
                      - {name: control, model: mmoe, percent: 50}
                      - {name: treatment, model: stem-net, percent: 50}
                shadows:
                  - {name: mmoe-shadow, model: mmoe, salt: monitoring-shadow-1, buckets: 100, percent: 100}
              exposureLog: {enabled: true}
            embedding:
              store: redis
            """;

    private static Path root;
    private static RenderedChart chart;
    private static ConfigurableApplicationContext service;
    private static String publicUrl;
    private static String managementUrl;
    private static ScheduledExecutorService traffic;
    private static final AtomicLong requestsSent = new AtomicLong();
    private static final AtomicLong requestsFailed = new AtomicLong();
    private static Process prometheus;
    private static String prometheusUrl;

    @BeforeAll
    static void startServiceTrafficAndPrometheus() throws IOException {
        Path prometheusBinary = ExternalTool.require("prometheus");
        ExternalTool.require("promtool");
        root = Files.createTempDirectory("stem-monitoring");
        chart = RenderedChart.cpu(CHART_VALUES);
        startService();
        startTraffic();
        startPrometheus(prometheusBinary);
    }

    @AfterAll
    static void stopEverything() throws InterruptedException {
        if (prometheus != null) {
            prometheus.destroy();
            if (!prometheus.waitFor(20, TimeUnit.SECONDS)) {
                prometheus.destroyForcibly();
            }
        }
        if (traffic != null) {
            traffic.shutdownNow();
            traffic.awaitTermination(10, TimeUnit.SECONDS);
        }
        if (service != null) {
            service.close();
        }
    }

    /**
     * The service with the chart's application.yaml and experiments.yaml; only the mounted paths and the Redis
     * URI point elsewhere.
     */
    private static void startService() throws IOException {
        Path models = root.resolve("models");
        Path stemNet = TestBundle.copyTo(models.resolve("stem-net"));
        Path mmoe = TestBundle.copyAsModel(models.resolve("mmoe"), "mmoe");
        RedisServiceProperties.loadBundles(TestRedis.shared(), stemNet, mmoe);
        Map<String, Object> configMap = chart.named("ConfigMap", RenderedChart.RELEASE + "-stem-net-config");
        Path application = Files.writeString(root.resolve("application.yaml"), chart.applicationYaml());
        Path experiments = Files.writeString(root.resolve("experiments.yaml"), get(configMap, "data.experiments.yaml").toString());
        service = new SpringApplicationBuilder(StemNetServiceApplication.class).run(
                "--spring.config.additional-location=file:" + application,
                "--stem.models.repository=" + models,
                "--stem.experiments.config=" + experiments,
                "--stem.experiments.exposure-log.dir=" + root.resolve("exposures"),
                "--stem.embedding.redis.uri=" + TestRedis.shared().uri(),
                "--stem.admin.token=" + ADMIN_TOKEN,
                "--server.port=0",
                "--management.server.port=0");
        publicUrl = "http://127.0.0.1:" + service.getEnvironment().getProperty("local.server.port");
        managementUrl = "http://127.0.0.1:" + service.getEnvironment().getProperty("local.management.port");
        assertThat(Polling.until(Duration.ofSeconds(60), () -> status(managementUrl + "/actuator/health/readiness") == 200))
                .as("the service is ready within 60 s").isTrue();
        loadADelta(mmoe);
    }

    /**
     * A delta for mmoe, loaded into Redis as an operator does, so that the delta series exist: it only appends an ad,
     * which leaves every score the other tests of this JVM expect of that Redis as it was.
     */
    private static void loadADelta(Path mmoe) {
        Path delta = TestDelta.first(mmoe).addItem("monitoring-new-ad", "a3").writeTo(root.resolve("delta-000001"));
        assertThat(RedisDeltaCommand.run(new String[] {"--stem.embedding.redis.load-delta=" + delta,
                "--stem.embedding.redis.delta-base=" + mmoe, "--stem.embedding.redis.uri=" + TestRedis.shared().uri(),
                "--stem.embedding.redis.timeout=5s"})).isZero();
    }

    /**
     * About 50 requests a second: a new user every time (a fair split between the arms), the same two candidates
     * (cache hits), and now and then a client error (400, 404) so the outcome panels have more than ok.
     */
    private static void startTraffic() {
        traffic = Executors.newSingleThreadScheduledExecutor();
        traffic.scheduleAtFixedRate(() -> {
            long n = requestsSent.incrementAndGet();
            String model = n % 7 == 0 ? "\"model\": \"no-such-model\", " : "";
            String candidates = n % 5 == 0 ? "[]" : """
                    [{"itemId": "a7", "features": {"advertiser": "adv2", "category": "c4", "creative_type": "video"}},
                     {"itemId": "a_new", "features": {"advertiser": "adv9", "category": "c1", "creative_type": "image"}}]""";
            try {
                post(publicUrl + "/v1/score", "{" + model + "\"userId\": \"" + UUID.randomUUID() + "\","
                        + " \"userFeatures\": {\"user_segment\": \"s3\", \"device\": \"ios\", \"age_band\": \"25-34\"},"
                        + " \"candidates\": " + candidates + "}", Map.of());
            } catch (RuntimeException e) {
                // An exception would cancel the schedule; one failed request is only one sample less.
                requestsFailed.incrementAndGet();
            }
        }, 0, 20, TimeUnit.MILLISECONDS);
    }

    private static void startPrometheus(Path binary) throws IOException {
        int port;
        try (ServerSocket socket = new ServerSocket(0)) {
            port = socket.getLocalPort();
        }
        prometheusUrl = "http://127.0.0.1:" + port;
        Path config = Files.writeString(root.resolve("prometheus.yml"), """
                global:
                  scrape_interval: 1s
                  evaluation_interval: 1s
                rule_files: ["%s"]
                scrape_configs:
                  - job_name: stem-net
                    metrics_path: /actuator/prometheus
                    static_configs:
                      - targets: ["%s"]
                """.formatted(SourceTree.RULES, managementUrl.substring("http://".length())));
        prometheus = new ProcessBuilder(binary.toString(), "--config.file=" + config,
                "--storage.tsdb.path=" + root.resolve("tsdb"), "--web.listen-address=127.0.0.1:" + port)
                .redirectErrorStream(true).redirectOutput(root.resolve("prometheus.log").toFile()).start();
        assertThat(Polling.until(Duration.ofSeconds(60), () -> status(prometheusUrl + "/-/ready") == 200))
                .as("Prometheus ready within 60 s; its log: %s", root.resolve("prometheus.log")).isTrue();
        assertThat(Polling.until(Duration.ofSeconds(60), () -> prometheusApi("/api/v1/targets").path("data")
                .path("activeTargets").path(0).path("health").asString("").equals("up")))
                .as("Prometheus scrapes the service within 60 s").isTrue();
    }

    @Test
    void promtoolAcceptsTheRulesFile() {
        ExternalTool.Result check = ExternalTool.run(List.of("promtool", "check", "rules", SourceTree.RULES.toString()), null);
        assertThat(check.exitCode()).as(check.output()).isZero();
        assertThat(check.output()).contains("SUCCESS: " + alerts().size() + " rules found");
    }

    @Test
    void promtoolRuleUnitTestsPass() {
        Path tests = SourceTree.RULES.resolveSibling("prometheus-rules.test.yaml");
        ExternalTool.Result result = ExternalTool.run(List.of("promtool", "test", "rules", tests.toString()), null);
        assertThat(result.exitCode()).as(result.output()).isZero();
        assertThat(result.output()).contains("SUCCESS");
    }

    @Test
    void promtoolFindsNoProblemInTheServicesOwnMetrics() throws IOException {
        String scrape = httpGet(managementUrl + "/actuator/prometheus");
        assertThat(scrape).contains("stem_requests_seconds_count", "stem_experiment_arm_share", "cache_gets_total");
        Path file = Files.writeString(root.resolve("scrape.txt"), scrape);
        ExternalTool.Result check = ExternalTool.run(List.of("promtool", "check", "metrics"), file);
        // 0: no problem; 3: lint problems only. Spring Boot's own JVM and Tomcat meters have some (no help text,
        // units in names); the service's own meters must have none.
        assertThat(check.exitCode()).as(check.output()).isIn(0, 3);
        assertThat(check.output().lines()).noneMatch(problem -> problem.startsWith("stem_") || problem.startsWith("cache_"));
    }

    @Test
    void everyDashboardPanelQueryReturnsData() {
        Map<String, String> queries = dashboardQueries();
        assertThat(queries).hasSizeGreaterThanOrEqualTo(16);
        List<String> empty = new ArrayList<>(queries.keySet());
        Polling.until(DATA_DEADLINE, () -> {
            empty.removeIf(panel -> hasData(query(queries.get(panel))));
            return empty.isEmpty();
        });
        assertThat(empty).as("panels whose query returned no data within %s (%d of %d requests failed to send)",
                DATA_DEADLINE, requestsFailed.get(), requestsSent.get()).isEmpty();
    }

    @Test
    void theChartsProbesAnswerUpOnTheManagementPortOnly() {
        Map<String, Object> container = chart.container();
        for (String probe : List.of("startupProbe", "livenessProbe", "readinessProbe")) {
            String path = get(container, probe + ".httpGet.path").toString();
            assertThat(httpGet(managementUrl + path)).as(probe).contains("\"status\":\"UP\"");
            assertThat(status(publicUrl + path)).as(probe + " on the public port").isEqualTo(404);
        }
    }

    @Test
    void everyAlertExpressionEvaluatesAndTheValueItWatchesExists() throws IOException {
        rejectABrokenBundleTwice();
        Map<String, String> alerts = alerts();
        assertThat(alerts.keySet()).contains("StemNetHighErrorRate", "StemNetScoreLatencyP99OverSlo",
                "StemNetModelReloadRejected", "StemNetEmbeddingStoreErrors", "StemNetCacheHitRatioCollapse",
                "StemNetExperimentSampleRatioMismatch", "StemNetNoTraffic", "StemNetShadowFailing",
                "StemNetDeltasStale", "StemNetDeltaRefused");
        List<String> missing = new ArrayList<>(alerts.keySet());
        missing.removeAll(NOT_PRODUCED_HERE.keySet());
        Polling.until(DATA_DEADLINE, () -> {
            missing.removeIf(alert -> hasData(query(watchedValue(alerts.get(alert)))));
            return missing.isEmpty();
        });
        assertThat(missing).as("alerts whose watched value had no series within %s", DATA_DEADLINE).isEmpty();
        alerts.values().forEach(PrometheusMonitoringTest::query);

        // Two rejected reloads within the window: the alert's full expression holds, for that directory.
        assertThat(Polling.until(DATA_DEADLINE, () -> query(alerts.get("StemNetModelReloadRejected")).toString().contains("broken-bundle")))
                .isTrue();
        // Only client errors (400, 404) besides ok: no server error rate. Traffic flows. A random 50/50 split is
        // no sample-ratio mismatch (a false alarm here has probability 0.001).
        assertThat(query(alerts.get("StemNetHighErrorRate")).size()).isZero();
        assertThat(query(alerts.get("StemNetNoTraffic")).size()).isZero();
        assertThat(query(alerts.get("StemNetExperimentSampleRatioMismatch")).size()).isZero();

        // Prometheus itself evaluates the loaded rules without errors.
        assertThat(Polling.until(Duration.ofSeconds(30), () -> allRulesHealthy(prometheusApi("/api/v1/rules")))).as(
                "every rule evaluated with health ok: %s", prometheusApi("/api/v1/rules")).isTrue();
    }

    /** A bundle with a corrupted vocabulary dropped into the repository, rescanned, corrupted again and rescanned. */
    private static void rejectABrokenBundleTwice() throws IOException {
        Path broken = TestBundle.copyTo(root.resolve("models/broken-bundle"));
        Path vocabulary;
        try (Stream<Path> files = Files.list(broken.resolve("vocab"))) {
            vocabulary = files.sorted().findFirst().orElseThrow();
        }
        Files.writeString(vocabulary, "corrupted\n", StandardOpenOption.APPEND);
        assertThat(post(managementUrl + "/actuator/models", "", Map.of("Authorization", "Bearer " + ADMIN_TOKEN)))
                .contains("broken-bundle");
        String rejected = "stem_model_loads_total{outcome=\"rejected\",directory=\"broken-bundle\"}";
        // A counter's first sample is no increase: let Prometheus see 1 before the second rejection makes it 2.
        assertThat(Polling.until(DATA_DEADLINE, () -> hasData(query(rejected)))).isTrue();
        Files.writeString(vocabulary, "corrupted again\n", StandardOpenOption.APPEND);
        post(managementUrl + "/actuator/models", "", Map.of("Authorization", "Bearer " + ADMIN_TOKEN));
    }

    /** The expression without its final threshold comparison: the value the alert watches. */
    static String watchedValue(String expression) {
        Matcher threshold = Pattern.compile("(?s)^(.*\\S)\\s*(?:>=|<=|==|!=|>|<)\\s*[0-9.]+\\s*$").matcher(expression);
        assertThat(threshold.matches()).as("ends in a threshold comparison: %s", expression).isTrue();
        return threshold.group(1);
    }

    private static Map<String, String> alerts() {
        Map<String, Object> file = new Yaml().load(SourceTree.read(SourceTree.RULES));
        Map<String, String> alerts = new LinkedHashMap<>();
        for (Object group : list(file.get("groups"))) {
            for (Object rule : list(map(group).get("rules"))) {
                alerts.put(map(rule).get("alert").toString(), map(rule).get("expr").toString());
            }
        }
        return alerts;
    }

    /** Every target of every panel, keyed by panel title and target, with the dashboard's variables resolved. */
    private static Map<String, String> dashboardQueries() {
        Map<String, String> queries = new LinkedHashMap<>();
        JsonNode dashboard = JSON.readTree(SourceTree.read(SourceTree.DASHBOARD));
        List<JsonNode> panels = new ArrayList<>();
        dashboard.path("panels").forEach(panel -> {
            panels.add(panel);
            panel.path("panels").forEach(panels::add);
        });
        for (JsonNode panel : panels) {
            for (JsonNode target : panel.path("targets")) {
                String expression = target.path("expr").asString();
                for (Map.Entry<String, String> variable : DASHBOARD_VARIABLES.entrySet()) {
                    expression = expression.replace(variable.getKey(), variable.getValue());
                }
                assertThat(expression).as("unresolved variable").doesNotContain("$");
                queries.put(panel.path("title").asString() + " / " + target.path("refId").asString(), expression);
            }
        }
        return queries;
    }

    /** The result of an instant query; a query Prometheus refuses fails the test with its error. */
    private static JsonNode query(String promql) {
        JsonNode answer = prometheusApi("/api/v1/query?query=" + URLEncoder.encode(promql, StandardCharsets.UTF_8));
        if (!answer.path("status").asString("").equals("success")) {
            fail("Prometheus refused " + promql + ": " + answer);
        }
        return answer.path("data").path("result");
    }

    /** At least one series with a number (histogram_quantile over no requests gives NaN). */
    private static boolean hasData(JsonNode result) {
        for (JsonNode series : result) {
            if (!series.path("value").path(1).asString("NaN").equals("NaN")) {
                return true;
            }
        }
        return false;
    }

    private static boolean allRulesHealthy(JsonNode rules) {
        List<JsonNode> all = new ArrayList<>();
        rules.path("data").path("groups").forEach(group -> group.path("rules").forEach(all::add));
        return all.size() == alerts().size()
                && all.stream().allMatch(rule -> rule.path("health").asString("").equals("ok"));
    }

    private static JsonNode prometheusApi(String pathAndQuery) {
        return JSON.readTree(httpGet(prometheusUrl + pathAndQuery));
    }

    private static String httpGet(String url) {
        return send(HttpRequest.newBuilder(URI.create(url)).GET()).body();
    }

    private static int status(String url) {
        try {
            return HTTP.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(5)).GET().build(),
                    HttpResponse.BodyHandlers.discarding()).statusCode();
        } catch (IOException e) {
            return -1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return -1;
        }
    }

    private static String post(String url, String json, Map<String, String> headers) {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(url))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(json));
        headers.forEach(request::header);
        return send(request).body();
    }

    private static HttpResponse<String> send(HttpRequest.Builder request) {
        try {
            return HTTP.send(request.timeout(Duration.ofSeconds(30)).build(), HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
