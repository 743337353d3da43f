package dev.stemnet.service.experiment;

import static org.assertj.core.api.Assertions.assertThat;

import dev.stemnet.service.Polling;
import dev.stemnet.service.PrometheusScrape;
import dev.stemnet.service.ServiceOverHttp;
import dev.stemnet.service.StemNetServiceApplication;
import dev.stemnet.service.TestBundle;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.http.MediaType;
import org.springframework.test.annotation.DirtiesContext;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.springframework.test.web.servlet.client.RestTestClient;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * A two-arm run over HTTP: the test bundle served as {@code stem-net} and as {@code mmoe}, one 50/50 model layer
 * and a second layer that only labels units.
 */
// No other test shares this configuration: close its two models, servers and writer thread when done, rather than
// leave them running beside the tests that measure the process (ReloadMemoryTest).
@DirtiesContext
class ExperimentApiTest extends ServiceOverHttp {

    private static final String ADMIN_TOKEN = "experiments-admin-token";
    private static final String QA_TOKEN = "qa-secret";
    private static final JsonMapper JSON = JsonMapper.builder().build();
    private static final String CONFIG_V1 = """
            version: v1
            layers:
              - name: model
                salt: stem-vs-mmoe-1
                buckets: 1000
                arms:
                  - {name: control, model: mmoe, percent: 50}
                  - {name: treatment, model: stem-net, percent: 50}
              - name: creative
                salt: creative-1
                buckets: 100
                arms:
                  - {name: a, ranges: "0-49"}
                  - {name: b, ranges: "50-99"}
            """;
    private static final Path ROOT = TestBundle.twoModelsAndExperiments("stem-experiments", CONFIG_V1);
    private static final Path REPOSITORY = ROOT.resolve("models");
    private static final Path CONFIG = ROOT.resolve("experiments.yaml");
    private static final Path EXPOSURES = ROOT.resolve("exposures");

    @DynamicPropertySource
    static void properties(DynamicPropertyRegistry properties) {
        serviceProperties().forEach((key, value) -> properties.add(key, () -> value));
    }

    private static Map<String, String> serviceProperties() {
        return Map.of(
                "stem.models.repository", REPOSITORY.toString(),
                "stem.admin.token", ADMIN_TOKEN,
                "stem.experiments.config", CONFIG.toString(),
                "stem.experiments.force-callers.qa-dashboard", QA_TOKEN,
                "stem.experiments.exposure-log.dir", EXPOSURES.toString());
    }

    @Test
    void theModelLayerArmChoosesTheModelAndTheResponseSaysLayerBucketArmModelAndVersion() {
        List<String> arms = new ArrayList<>();
        for (int i = 0; i < 40; i++) {
            JsonNode response = score(client, "user-" + i);
            JsonNode experiment = response.get("experiment");
            assertThat(experiment.get("configVersion").asString()).isEqualTo("v1");
            JsonNode model = experiment.get("assignments").get(0);
            assertThat(model.get("layer").asString()).isEqualTo("model");
            assertThat(model.get("bucket").asInt()).isBetween(0, 999);
            assertThat(model.get("arm").asString()).isEqualTo(model.get("bucket").asInt() < 500 ? "control" : "treatment");
            assertThat(model.get("model").asString())
                    .isEqualTo(model.get("arm").asString().equals("control") ? "mmoe" : "stem-net")
                    .isEqualTo(response.get("model").get("name").asString());
            assertThat(model.get("version").asString()).isEqualTo(response.get("model").get("version").asString());
            JsonNode creative = experiment.get("assignments").get(1);
            assertThat(creative.get("layer").asString()).isEqualTo("creative");
            assertThat(creative.has("model")).isFalse();
            arms.add(model.get("arm").asString());
        }
        assertThat(arms).contains("control", "treatment");
    }

    @Test
    void aRequestThatNamesAModelIsScoredByItAndNotExposedToTheModelLayer() {
        JsonNode response = post(client, body("user-1", "\"model\": \"mmoe\", ")).expectStatus().isOk()
                .expectBody(JsonNode.class).returnResult().getResponseBody();

        assertThat(response.get("model").get("name").asString()).isEqualTo("mmoe");
        assertThat(response.get("experiment").get("assignments")).hasSize(1);
        assertThat(response.get("experiment").get("assignments").get(0).get("layer").asString()).isEqualTo("creative");
    }

    @Test
    void anotherReplicaPutsEveryUserInTheSameArmsAndWritesItsExposuresBeforeItStops() throws IOException {
        List<String> users = IntStream.range(0, 20).mapToObj(i -> "replica-user-" + i).toList();
        List<JsonNode> here = users.stream().map(user -> score(client, user).get("experiment")).toList();

        // A replica of its own: own ports and, like every replica, its own exposure directory.
        Map<String, String> replicaProperties = new HashMap<>(serviceProperties());
        replicaProperties.put("stem.experiments.exposure-log.dir", ROOT.resolve("replica-exposures").toString());
        replicaProperties.put("server.port", "0");
        replicaProperties.put("management.server.port", "0");
        String[] replicaArgs = replicaProperties.entrySet().stream()
                .map(property -> "--" + property.getKey() + "=" + property.getValue()).toArray(String[]::new);
        try (ConfigurableApplicationContext replica = new SpringApplicationBuilder(StemNetServiceApplication.class)
                .run(replicaArgs)) {
            RestTestClient replicaClient = RestTestClient.bindToServer()
                    .baseUrl("http://localhost:" + replica.getEnvironment().getProperty("local.server.port")).build();
            RestTestClient replicaManagement = RestTestClient.bindToServer()
                    .baseUrl("http://localhost:" + replica.getEnvironment().getProperty("local.management.port")).build();
            assertThat(Polling.until(Duration.ofSeconds(60), () -> isReady(replicaManagement))).isTrue();

            List<JsonNode> there = users.stream().map(user -> score(replicaClient, user).get("experiment")).toList();
            assertThat(there).isEqualTo(here);
        }
        // Closed: every exposure of the replica is on disk, none left in its queue.
        long replicaExposures = 0;
        for (Path file : ExposureLog.exposureFiles(ROOT.resolve("replica-exposures"))) {
            replicaExposures += Files.readAllLines(file).size();
        }
        assertThat(replicaExposures).isEqualTo(users.size());
    }

    @Test
    void anAllowListedCallerMayForceAnArmAndTheResponseSaysSo() {
        String user = userInArm("treatment");
        double perArmBefore = scrapeMetrics().sum("stem_experiment_requests_seconds_count", Map.of("layer", "model", "arm", "control"));
        double forcedBefore = scrapeMetrics().sum("stem_experiment_forced_total", Map.of("layer", "model", "arm", "control"));

        JsonNode response = post(client, body(user, ""), "model=control", "qa-dashboard", QA_TOKEN).expectStatus().isOk()
                .expectBody(JsonNode.class).returnResult().getResponseBody();

        JsonNode model = response.get("experiment").get("assignments").get(0);
        assertThat(model.get("arm").asString()).isEqualTo("control");
        assertThat(model.get("forced").asBoolean()).isTrue();
        assertThat(response.get("model").get("name").asString()).isEqualTo("mmoe");
        PrometheusScrape after = scrapeMetrics();
        assertThat(after.sum("stem_experiment_forced_total", Map.of("layer", "model", "arm", "control"))).isEqualTo(forcedBefore + 1);
        assertThat(after.sum("stem_experiment_requests_seconds_count", Map.of("layer", "model", "arm", "control")))
                .as("forced units stay out of the per-arm series").isEqualTo(perArmBefore);
    }

    @Test
    void refusesToForceArmsForACallerThatIsNotAllowListedWith403() {
        for (String[] caller : new String[][] {{null, null}, {"qa-dashboard", "wrong-token"}, {"someone-else", QA_TOKEN}}) {
            post(client, body("user-1", ""), "model=control", caller[0], caller[1])
                    .expectStatus().isForbidden()
                    .expectHeader().contentTypeCompatibleWith(MediaType.APPLICATION_PROBLEM_JSON)
                    .expectBody()
                    .jsonPath("$.status").isEqualTo(403)
                    .jsonPath("$.detail").value(String.class, detail -> assertThat(detail).contains("experiment arms"));
        }
    }

    @Test
    void refusesToForceAnArmThatDoesNotExistWith400NamingTheHeader() {
        post(client, body("user-1", ""), "model=holdout", "qa-dashboard", QA_TOKEN)
                .expectStatus().isBadRequest()
                .expectBody()
                .jsonPath("$.field").isEqualTo("X-Experiment-Force")
                .jsonPath("$.detail").value(String.class, detail -> assertThat(detail).contains("no arm 'holdout'"));
    }

    @Test
    void writesOneExposureRecordPerScoredRequest() throws IOException {
        String requestId = "exposure-" + System.nanoTime();
        JsonNode response = post(client, body("user-7", "\"requestId\": \"" + requestId + "\", ")).expectStatus().isOk()
                .expectBody(JsonNode.class).returnResult().getResponseBody();

        assertThat(Polling.until(Duration.ofSeconds(10), () -> exposure(requestId).isPresent())).isTrue();
        JsonNode record = exposure(requestId).orElseThrow();
        assertThat(Instant.parse(record.get("time").asString())).isBefore(Instant.now().plusSeconds(1));
        assertThat(record.get("unitId").asString()).isEqualTo("user-7");
        assertThat(record.get("configVersion").asString()).isEqualTo("v1");
        assertThat(record.get("model").asString()).isEqualTo(response.get("model").get("name").asString());
        assertThat(record.get("modelVersion").asString()).isEqualTo(response.get("model").get("version").asString());
        assertThat(record.get("assignments")).isEqualTo(response.get("experiment").get("assignments"));
        assertThat(record.get("items")).isEqualTo(response.get("results"));
        assertThat(record.get("items").get(0).get("scores").propertyNames()).containsExactly("follow", "activation", "pay");
        assertThat(scrapeMetrics().text().lines().filter(line -> line.startsWith("stem_exposures_written_total "))
                .mapToDouble(line -> Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1))).sum())
                .isGreaterThanOrEqualTo(1);
    }

    @Test
    void perArmRequestAndScoreMetersMoveWithEachRequest() {
        String user = userInArm("treatment");
        Map<String, String> treatment = Map.of("layer", "model", "arm", "treatment", "outcome", "ok");
        Map<String, String> treatmentPay = Map.of("layer", "model", "arm", "treatment", "task", "pay");
        PrometheusScrape before = scrapeMetrics();

        score(client, user);

        PrometheusScrape after = scrapeMetrics();
        assertThat(after.sum("stem_experiment_requests_seconds_count", treatment))
                .isEqualTo(before.sum("stem_experiment_requests_seconds_count", treatment) + 1);
        assertThat(after.sum("stem_experiment_task_score_count", treatmentPay))
                .isEqualTo(before.sum("stem_experiment_task_score_count", treatmentPay) + 2);
        assertThat(after.has("stem_experiment_task_score_bucket", Map.of("arm", "treatment", "task", "pay", "le", "0.001")))
                .isTrue();
        assertThat(after.has("stem_experiment_config_info", Map.of("version", "v1"))).isTrue();
        assertThat(after.sum("stem_experiment_arm_share", Map.of("layer", "creative", "arm", "b"))).isEqualTo(0.5);
    }

    @Test
    void aReloadAppliesAGoodFileAndKeepsTheOldConfigurationAndVersionOnABadOne() throws IOException {
        try {
            Files.writeString(CONFIG, CONFIG_V1.replace("version: v1", "version: v2").replace("{name: control, model: mmoe, percent: 50}",
                    "{name: control, model: mmoe, percent: 60}"));
            reload().expectStatus().isEqualTo(422).expectBody()
                    .jsonPath("$.outcome").isEqualTo("REJECTED")
                    .jsonPath("$.activeVersion").isEqualTo("v1")
                    .jsonPath("$.error").value(String.class, error -> assertThat(error).contains("layers[model]", "more than 100"));

            Files.writeString(CONFIG, CONFIG_V1.replace("version: v1", "version: v2").replace("model: mmoe", "model: mmoe-v9"));
            reload().expectStatus().isEqualTo(422).expectBody()
                    .jsonPath("$.error").value(String.class, error -> assertThat(error)
                            .contains("layers[model].arms[control]", "model 'mmoe-v9'", "not serving"));

            assertThat(score(client, "user-1").get("experiment").get("configVersion").asString()).isEqualTo("v1");
            management.get().uri("/actuator/experiments").header("Authorization", "Bearer " + ADMIN_TOKEN).exchange()
                    .expectStatus().isOk().expectBody()
                    .jsonPath("$.active.version").isEqualTo("v1")
                    .jsonPath("$.lastReload.outcome").isEqualTo("REJECTED");

            Files.writeString(CONFIG, CONFIG_V1.replace("version: v1", "version: v2")
                    .replace("percent: 50}\n      - {name: treatment, model: stem-net, percent: 50}",
                            "percent: 10}\n      - {name: treatment, model: stem-net, percent: 90}"));
            reload().expectStatus().isOk().expectBody().jsonPath("$.outcome").isEqualTo("LOADED");
            assertThat(score(client, "user-1").get("experiment").get("configVersion").asString()).isEqualTo("v2");
            assertThat(scrapeMetrics().sum("stem_experiment_arm_share", Map.of("layer", "model", "arm", "control"))).isEqualTo(0.1);
            assertThat(scrapeMetrics().sum("stem_experiment_arm_share", Map.of("layer", "model", "arm", "treatment"))).isEqualTo(0.9);
            reload().expectStatus().isOk().expectBody().jsonPath("$.outcome").isEqualTo("UNCHANGED");
        } finally {
            Files.writeString(CONFIG, CONFIG_V1);
            reload().expectStatus().isOk();
        }
    }

    @Test
    void theExperimentsEndpointNeedsTheAdminToken() {
        management.post().uri("/actuator/experiments").exchange().expectStatus().isUnauthorized();
        management.get().uri("/actuator/experiments").exchange().expectStatus().isUnauthorized();
    }

    private RestTestClient.ResponseSpec reload() {
        return management.post().uri("/actuator/experiments").header("Authorization", "Bearer " + ADMIN_TOKEN).exchange();
    }

    /** A user the hash puts in {@code arm} of the model layer, found by asking the service. */
    private String userInArm(String arm) {
        for (int i = 0; i < 100; i++) {
            String user = "arm-seeker-" + i;
            if (score(client, user).get("experiment").get("assignments").get(0).get("arm").asString().equals(arm)) {
                return user;
            }
        }
        throw new AssertionError("no user in arm " + arm + " among 100");
    }

    private Optional<JsonNode> exposure(String requestId) {
        try {
            for (Path file : ExposureLog.exposureFiles(EXPOSURES)) {
                for (String line : Files.readAllLines(file)) {
                    JsonNode record = JSON.readTree(line);
                    if (record.get("requestId").asString().equals(requestId)) {
                        return Optional.of(record);
                    }
                }
            }
            return Optional.empty();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static String body(String user, String extra) {
        return """
                {%s"userId": "%s", "candidates": [{"itemId": "a1", "features": {"advertiser": "adv1"}}, {"itemId": "a2"}]}
                """.formatted(extra, user);
    }

    private static JsonNode score(RestTestClient client, String user) {
        return post(client, body(user, "")).expectStatus().isOk()
                .expectBody(JsonNode.class).returnResult().getResponseBody();
    }

    private static RestTestClient.ResponseSpec post(RestTestClient client, String body) {
        return client.post().uri("/v1/score").contentType(MediaType.APPLICATION_JSON).body(body).exchange();
    }

    private static RestTestClient.ResponseSpec post(RestTestClient client, String body, String force, String caller, String token) {
        RestTestClient.RequestBodySpec request = client.post().uri("/v1/score").contentType(MediaType.APPLICATION_JSON)
                .header(ForcedArms.FORCE_HEADER, force);
        if (caller != null) {
            request = request.header(ForcedArms.CALLER_HEADER, caller);
        }
        if (token != null) {
            request = request.header(ForcedArms.TOKEN_HEADER, token);
        }
        return request.body(body).exchange();
    }
}
