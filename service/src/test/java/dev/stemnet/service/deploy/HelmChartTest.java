package dev.stemnet.service.deploy;

import static dev.stemnet.service.deploy.RenderedChart.get;
import static dev.stemnet.service.deploy.RenderedChart.list;
import static dev.stemnet.service.deploy.RenderedChart.map;
import static org.assertj.core.api.Assertions.assertThat;

import com.marcnuri.helm.Helm;
import com.marcnuri.helm.LintResult;
import dev.stemnet.service.config.EmbeddingStoreProperties;
import dev.stemnet.service.config.StemProperties;
import dev.stemnet.service.experiment.ExperimentProperties;
import dev.stemnet.service.inference.DeviceMode;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.boot.context.properties.source.ConfigurationPropertySources;
import org.springframework.boot.env.YamlPropertySourceLoader;
import org.springframework.core.io.ByteArrayResource;
import org.yaml.snakeyaml.Yaml;
import tools.jackson.databind.json.JsonMapper;

/**
 * The Helm chart rendered by real Helm for CPU and GPU values: what Kubernetes would run, checked against the
 * service (its ports, probe endpoints and configuration binding), the Dockerfile and the monitoring files.
 * ({@link PrometheusMonitoringTest} also starts the service with the ConfigMap's configuration.)
 */
class HelmChartTest {

    private static final Map<String, Object> DEFAULTS = SourceTree.applicationDefaults();
    private static final int PUBLIC_PORT = (Integer) SourceTree.at(DEFAULTS, "server.port");
    private static final int MANAGEMENT_PORT = (Integer) SourceTree.at(DEFAULTS, "management.server.port");

    @Test
    void helmLintFindsNoProblem() {
        LintResult lint = new Helm(SourceTree.CHART).lint().strict().call();
        assertThat(lint.isFailed()).as(String.join("\n", lint.getMessages())).isFalse();
        assertThat(lint.getMessages()).noneMatch(message -> message.startsWith("[WARNING]") || message.startsWith("[ERROR]"));
    }

    @Test
    void onlyTheGpuValuesAskForAGpuAndScheduleOnGpuNodes() {
        RenderedChart cpu = RenderedChart.cpu();
        assertThat(cpu.container().get("resources").toString()).doesNotContain("nvidia.com/gpu");
        assertThat(get(cpu.one("Deployment"), "spec.template.spec.nodeSelector")).isNull();
        assertThat(get(cpu.one("Deployment"), "spec.template.spec.tolerations")).isNull();
        assertThat(cpu.container().get("image").toString()).endsWith("-cpu");

        RenderedChart gpu = RenderedChart.gpu();
        Map<String, Object> deployment = gpu.one("Deployment");
        assertThat(get(gpu.container(), "resources.limits.nvidia.com/gpu")).isEqualTo(1);
        assertThat(get(deployment, "spec.template.spec.nodeSelector")).isEqualTo(Map.of("nvidia.com/gpu.present", "true"));
        assertThat(list(get(deployment, "spec.template.spec.tolerations")))
                .containsExactly(Map.of("key", "nvidia.com/gpu", "operator", "Exists", "effect", "NoSchedule"));
        assertThat(gpu.container().get("image").toString()).endsWith("-gpu");
        assertThat(bind(gpu.applicationYaml(), "stem", StemProperties.class).runtime().device()).isEqualTo(DeviceMode.CUDA);
    }

    @Test
    void probesAndServicesUseThePortsAndActuatorEndpointsOfTheService() {
        RenderedChart chart = RenderedChart.cpu();
        Map<String, Object> container = chart.container();
        Map<String, Integer> ports = namedPorts(container);
        assertThat(ports).isEqualTo(Map.of("http", PUBLIC_PORT, "management", MANAGEMENT_PORT));

        assertThat(probe(container, "startupProbe")).isEqualTo(Map.of("path", "/actuator/health/liveness", "port", "management"));
        assertThat(probe(container, "livenessProbe")).isEqualTo(Map.of("path", "/actuator/health/liveness", "port", "management"));
        assertThat(probe(container, "readinessProbe")).isEqualTo(Map.of("path", "/actuator/health/readiness", "port", "management"));
        // The Dockerfile's HEALTHCHECK asks the same endpoint as the readiness probe.
        assertThat(SourceTree.read(SourceTree.DOCKERFILE)).contains(":" + MANAGEMENT_PORT + "/actuator/health/readiness");

        Map<String, Object> publicService = chart.named("Service", "stem-stem-net");
        Map<String, Object> managementService = chart.named("Service", "stem-stem-net-management");
        assertThat(list(get(publicService, "spec.ports"))).containsExactly(Map.of("name", "http", "port", 8080, "targetPort", "http"));
        assertThat(list(get(managementService, "spec.ports")))
                .containsExactly(Map.of("name", "management", "port", 8081, "targetPort", "management"));

        Map<String, Object> monitored = RenderedChart.cpu("monitoring: {serviceMonitor: {enabled: true}}").one("ServiceMonitor");
        assertThat(map(get(managementService, "metadata.labels")).entrySet())
                .containsAll(map(get(monitored, "spec.selector.matchLabels")).entrySet());
        assertThat(map(get(publicService, "metadata.labels"))).doesNotContainKey("app.kubernetes.io/component");
        assertThat(list(get(monitored, "spec.endpoints")).get(0))
                .isEqualTo(Map.of("port", "management", "path", "/actuator/prometheus", "interval", "15s"));
    }

    @Test
    void theConfigMapBindsToTheServicesPropertiesAndNamesTheMountedPaths() {
        RenderedChart chart = RenderedChart.cpu("""
                experiments:
                  config: |
                    version: v1
                    layers: []
                  exposureLog: {enabled: true}
                embedding:
                  store: redis
                  redis: {uri: "redis://redis.ads:6379", cluster: true, timeout: 100ms, deltaPollInterval: 2s}
                """);
        String application = chart.applicationYaml();
        StemProperties stem = bind(application, "stem", StemProperties.class);
        EmbeddingStoreProperties embedding = bind(application, "stem.embedding", EmbeddingStoreProperties.class);
        ExperimentProperties experiments = bind(application, "stem.experiments", ExperimentProperties.class);

        Map<String, String> mounts = mounts(chart.container());
        assertThat(mounts).containsEntry("/models", "models").containsEntry("/config", "config");
        assertThat(stem.models().repository()).isEqualTo(Path.of("/models"));
        assertThat(embedding.store()).isEqualTo(EmbeddingStoreProperties.StoreKind.REDIS);
        assertThat(embedding.redis().uri()).isEqualTo("redis://redis.ads:6379");
        assertThat(embedding.redis().cluster()).isTrue();
        assertThat(embedding.redis().timeout()).isEqualTo(Duration.ofMillis(100));
        assertThat(embedding.redis().deltaPollInterval()).isEqualTo(Duration.ofSeconds(2));
        assertThat(experiments.config()).isEqualTo(Path.of("/config/experiments.yaml"));
        assertThat(get(chart.named("ConfigMap", "stem-stem-net-config"), "data.experiments.yaml")).isEqualTo("version: v1\nlayers: []\n");
        assertThat(experiments.exposureLog().dir()).isEqualTo(Path.of("/exposures"));
        assertThat(mounts).containsEntry("/exposures", "exposures");
        assertThat(chart.container().get("args")).isEqualTo(List.of("--spring.config.additional-location=file:/config/application.yaml"));
    }

    @Test
    void aConfigurationChangeRollsThePods() {
        String checksum = "spec.template.metadata.annotations.checksum/config";
        Object before = get(RenderedChart.cpu().one("Deployment"), checksum);
        Object after = get(RenderedChart.cpu("config: {stem: {scoring: {deadline: 300ms}}}").one("Deployment"), checksum);
        assertThat(before).asString().hasSize(64);
        assertThat(after).isNotEqualTo(before);
    }

    @Test
    void secretsComeFromSecretsAndNeverFromTheConfigMap() {
        RenderedChart created = RenderedChart.cpu("admin: {token: t0ken}");
        assertThat(env(created.container(), "STEM_ADMIN_TOKEN"))
                .isEqualTo(Map.of("secretKeyRef", Map.of("name", "stem-stem-net-admin", "key", "admin-token")));
        assertThat(get(created.named("Secret", "stem-stem-net-admin"), "data.admin-token")).isEqualTo("dDBrZW4=");
        assertThat(created.applicationYaml()).doesNotContain("t0ken");

        RenderedChart existing = RenderedChart.cpu("""
                admin: {existingSecret: ops-admin}
                embedding: {store: redis, redis: {uriSecret: {name: redis-auth, key: url}}}
                """);
        assertThat(existing.all("Secret")).isEmpty();
        assertThat(env(existing.container(), "STEM_ADMIN_TOKEN"))
                .isEqualTo(Map.of("secretKeyRef", Map.of("name", "ops-admin", "key", "admin-token")));
        assertThat(env(existing.container(), "STEM_EMBEDDING_REDIS_URI"))
                .isEqualTo(Map.of("secretKeyRef", Map.of("name", "redis-auth", "key", "url")));
        assertThat(existing.applicationYaml()).doesNotContain("uri:");

        assertThat(RenderedChart.cpu().container().get("env")).isNull();
    }

    @Test
    void runsNonRootOnAReadOnlyRootFilesystemWithVolumesForEveryWritablePath() throws IOException {
        RenderedChart chart = RenderedChart.cpu();
        Map<String, Object> pod = map(get(chart.one("Deployment"), "spec.template.spec"));
        assertThat(get(pod, "securityContext.runAsNonRoot")).isEqualTo(true);
        String dockerUser = DockerfileTest.Instruction.parse(SourceTree.read(SourceTree.DOCKERFILE)).stream()
                .filter(instruction -> instruction.keyword().equals("USER")).findFirst().orElseThrow().arguments();
        assertThat(get(pod, "securityContext.runAsUser") + ":" + get(pod, "securityContext.runAsGroup")).isEqualTo(dockerUser);
        assertThat(get(chart.container(), "securityContext.readOnlyRootFilesystem")).isEqualTo(true);
        assertThat(get(chart.container(), "securityContext.allowPrivilegeEscalation")).isEqualTo(false);
        assertThat(mounts(chart.container())).containsOnlyKeys("/config", "/models", "/tmp");
        assertThat(volume(pod, "tmp")).containsKey("emptyDir");
        assertThat(volume(pod, "models")).isEqualTo(Map.of("name", "models",
                "persistentVolumeClaim", Map.of("claimName", "stem-stem-net-models", "readOnly", true)));
        assertThat(chart.one("PersistentVolumeClaim")).isNotNull();
    }

    @Test
    void anInitContainerCanCopyTheBundlesFromObjectStorageInstead() {
        RenderedChart chart = RenderedChart.cpu("""
                models:
                  source: init
                  init:
                    image: amazon/aws-cli:2.17.0
                    command: [aws, s3, sync, "s3://models/stem", /models]
                """);
        Map<String, Object> pod = map(get(chart.one("Deployment"), "spec.template.spec"));
        Map<String, Object> init = map(list(pod.get("initContainers")).get(0));
        assertThat(init.get("image")).isEqualTo("amazon/aws-cli:2.17.0");
        assertThat(init.get("command")).isEqualTo(List.of("aws", "s3", "sync", "s3://models/stem", "/models"));
        assertThat(mounts(init)).containsEntry("/models", "models");
        assertThat(volume(pod, "models")).containsKey("emptyDir");
        assertThat(chart.all("PersistentVolumeClaim")).isEmpty();
    }

    @Test
    void scalesWithAnAutoscalerAndKeepsPodsThroughDisruptions() {
        RenderedChart chart = RenderedChart.cpu();
        assertThat(get(chart.one("Deployment"), "spec.replicas")).as("the autoscaler owns replicas").isNull();
        assertThat(get(chart.one("HorizontalPodAutoscaler"), "spec.scaleTargetRef.name")).isEqualTo("stem-stem-net");
        assertThat(get(chart.one("PodDisruptionBudget"), "spec.selector.matchLabels"))
                .isEqualTo(get(chart.one("Deployment"), "spec.selector.matchLabels"));
        assertThat(get(RenderedChart.cpu("autoscaling: {enabled: false}", "replicaCount: 3").one("Deployment"), "spec.replicas"))
                .isEqualTo(3);
    }

    @Test
    void theRuleAndDashboardObjectsCarryTheMonitoringFilesUnchanged() {
        RenderedChart chart = RenderedChart.cpu("monitoring: {prometheusRule: {enabled: true}}");
        Map<String, Object> rulesFile = new Yaml().load(SourceTree.read(SourceTree.RULES));
        assertThat(chart.one("PrometheusRule").get("spec")).isEqualTo(rulesFile);

        Map<String, Object> dashboard = chart.named("ConfigMap", "stem-stem-net-dashboard");
        assertThat(get(dashboard, "metadata.labels.grafana_dashboard")).isEqualTo("1");
        JsonMapper json = JsonMapper.builder().build();
        assertThat(json.readTree(get(dashboard, "data.stem-net-service.json").toString()))
                .isEqualTo(json.readTree(SourceTree.read(SourceTree.DASHBOARD)));
        assertThat(RenderedChart.cpu().all("PrometheusRule")).as("off unless the Prometheus Operator is there").isEmpty();
    }

    private static <T> T bind(String yaml, String prefix, Class<T> type) {
        try {
            var sources = new YamlPropertySourceLoader().load("configmap", new ByteArrayResource(yaml.getBytes()));
            return new Binder(ConfigurationPropertySources.from(sources)).bind(prefix, type).get();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private static Map<String, Integer> namedPorts(Map<String, Object> container) {
        return list(container.get("ports")).stream().map(RenderedChart::map)
                .collect(Collectors.toMap(port -> (String) port.get("name"), port -> (Integer) port.get("containerPort")));
    }

    private static Map<String, Object> probe(Map<String, Object> container, String name) {
        return map(get(container, name + ".httpGet"));
    }

    private static Map<String, String> mounts(Map<String, Object> container) {
        return list(container.get("volumeMounts")).stream().map(RenderedChart::map)
                .collect(Collectors.toMap(mount -> (String) mount.get("mountPath"), mount -> (String) mount.get("name")));
    }

    private static Map<String, Object> volume(Map<String, Object> pod, String name) {
        return list(pod.get("volumes")).stream().map(RenderedChart::map).filter(volume -> name.equals(volume.get("name")))
                .findFirst().orElseThrow(() -> new AssertionError("No volume " + name));
    }

    private static Object env(Map<String, Object> container, String name) {
        return list(container.get("env")).stream().map(RenderedChart::map).filter(variable -> name.equals(variable.get("name")))
                .findFirst().map(variable -> variable.get("valueFrom")).orElseThrow(() -> new AssertionError("No env " + name));
    }
}
