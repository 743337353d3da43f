package dev.stemnet.service.experiment;

import static org.assertj.core.api.Assertions.assertThat;

import dev.stemnet.service.ProcStat;
import dev.stemnet.service.Polling;
import dev.stemnet.service.PrometheusScrape;
import dev.stemnet.service.ServiceOverHttp;
import dev.stemnet.service.TestBundle;
import dev.stemnet.service.api.HeldEmbeddingStores;
import dev.stemnet.service.model.ModelRegistry;
import dev.stemnet.service.pipeline.Admission;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.context.annotation.Import;
import org.springframework.http.MediaType;
import org.springframework.test.annotation.DirtiesContext;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * {@code stem-net} serves, {@code mmoe} (the test bundle under another name) shadows every user: the responses are
 * {@code stem-net}'s alone, every request gets a shadow line beside its served line, and a shadow is shed, not
 * queued, while serving traffic waits for the one scoring slot.
 */
@DirtiesContext
@Import(HeldEmbeddingStores.Wiring.class)
class ShadowApiTest extends ServiceOverHttp {

    private static final String ADMIN_TOKEN = "shadow-admin-token";
    private static final JsonMapper JSON = JsonMapper.builder().build();
    private static final String CONFIG = """
            version: shadow-1
            shadows:
              - {name: mmoe-shadow, model: mmoe, salt: shadow-1, buckets: 100, percent: 100}
            """;
    private static final Path ROOT = TestBundle.twoModelsAndExperiments("stem-shadow", CONFIG);
    private static final Path EXPOSURES = ROOT.resolve("exposures");
    private static final Duration WITHIN = Duration.ofSeconds(30);
    private static final Map<String, String> SHADOW = Map.of("shadow", "mmoe-shadow", "model", "mmoe");

    @Autowired
    private HeldEmbeddingStores stores;

    @Autowired
    private Admission admission;

    @Autowired
    private ModelRegistry registry;

    @DynamicPropertySource
    static void properties(DynamicPropertyRegistry properties) {
        properties.add("stem.models.repository", () -> ROOT.resolve("models").toString());
        properties.add("stem.admin.token", () -> ADMIN_TOKEN);
        properties.add("stem.experiments.config", () -> ROOT.resolve("experiments.yaml").toString());
        properties.add("stem.experiments.exposure-log.dir", EXPOSURES::toString);
        properties.add("stem.scoring.max-concurrent", () -> "1");
        properties.add("stem.scoring.deadline", () -> "1m");
        // Two candidates a request: each shadow is scored in two parts, which must add up to the whole.
        properties.add("stem.shadow.chunk-candidates", () -> "1");
    }

    /** Readiness waits for the default model only; the shadow's warm-up must not take a test's held fetch either. */
    @Override
    protected boolean isReady() {
        return super.isReady() && registry.isServing("mmoe");
    }

    @Test
    void everyServedRequestGetsAShadowLineWithTheSameRequestUserAndItemsAndTheResponseOnlyTheServedScores() {
        PrometheusScrape before = scrapeMetrics();
        List<String> requestIds = new ArrayList<>();
        // One request at a time, each after the shadow of the one before: with one scoring slot, a served request in
        // flight is serving at capacity, and a shadow meeting it gives way (the next test), unscored and unlogged.
        for (int i = 0; i < 6; i++) {
            String requestId = "paired-" + i + "-" + System.nanoTime();
            JsonNode response = score(requestId, "shadowed-user-" + i);
            assertThat(response.get("model").get("name").asString()).isEqualTo("stem-net");
            requestIds.add(requestId);
            assertThat(Polling.until(WITHIN, () -> line(requestId, "shadow") != null))
                    .as("a shadow line for request %d", i).isTrue();
        }

        for (String requestId : requestIds) {
            JsonNode served = line(requestId, "served");
            JsonNode shadow = line(requestId, "shadow");
            assertThat(served.get("model").asString()).isEqualTo("stem-net");
            assertThat(shadow.get("shadow").asString()).isEqualTo("mmoe-shadow");
            assertThat(shadow.get("model").asString()).isEqualTo("mmoe");
            assertThat(shadow.get("servedModel").asString()).isEqualTo("stem-net");
            assertThat(shadow.get("servedModelVersion").asString()).isEqualTo(served.get("modelVersion").asString());
            assertThat(shadow.get("unitId")).isEqualTo(served.get("unitId"));
            assertThat(shadow.get("configVersion").asString()).isEqualTo("shadow-1");
            // The same bundle under another name: the same items in the same order, the same scores.
            assertThat(shadow.get("items")).isEqualTo(served.get("items"));
        }
        PrometheusScrape after = scrapeMetrics();
        Map<String, String> scored = Map.of("shadow", "mmoe-shadow", "outcome", "scored");
        assertThat(after.sum("stem_shadow_requests_total", scored) - before.sum("stem_shadow_requests_total", scored))
                .isEqualTo(6);
        Map<String, String> pay = Map.of("shadow", "mmoe-shadow", "task", "pay");
        assertThat(after.sum("stem_shadow_score_difference_count", pay)
                - before.sum("stem_shadow_score_difference_count", pay)).as("two candidates a request").isEqualTo(12);
        assertThat(after.sum("stem_shadow_seconds_count", SHADOW) - before.sum("stem_shadow_seconds_count", SHADOW))
                .isEqualTo(6);
    }

    @Test
    void shadowThreadsRunAtTheLowestSchedulingPriorityAndTheServingThreadsDoNot() throws IOException {
        // Linux truncates a thread's name to 15 characters in /proc: "shadow-scoring-" and "http-nio-<port>".
        Map<String, List<Integer>> niceByThread = new java.util.TreeMap<>();
        Map<String, List<Integer>> policyByThread = new java.util.TreeMap<>();
        try (var tasks = Files.list(Path.of("/proc/self/task"))) {
            for (Path task : tasks.toList()) {
                String name;
                int nice;
                int policy;
                try {
                    name = Files.readString(task.resolve("comm")).strip();
                    nice = ProcStat.nice(task.resolve("stat"));
                    policy = ProcStat.schedulingPolicy(task.resolve("stat"));
                } catch (java.nio.file.NoSuchFileException exited) {
                    continue;
                }
                String kind = name.startsWith("shadow-scoring") ? "shadow" : name.startsWith("http-nio") ? "http" : "other";
                niceByThread.computeIfAbsent(kind, key -> new ArrayList<>()).add(nice);
                policyByThread.computeIfAbsent(kind, key -> new ArrayList<>()).add(policy);
            }
        }
        // Other test classes' cached contexts run shadow threads of their own in this JVM, all at the default.
        assertThat(niceByThread.get("shadow")).as("stem.shadow.nice = 19").isNotEmpty().allMatch(nice -> nice == 19);
        assertThat(policyByThread.get("shadow")).as("stem.shadow.sched-idle = true")
                .allMatch(policy -> policy == ProcStat.SCHED_IDLE);
        int processNice = ProcStat.nice(Path.of("/proc/self/stat"));
        int processPolicy = ProcStat.schedulingPolicy(Path.of("/proc/self/stat"));
        assertThat(niceByThread.get("http")).isNotEmpty().allMatch(nice -> nice == processNice);
        assertThat(policyByThread.get("http")).allMatch(policy -> policy == processPolicy);
        assertThat(processPolicy).isNotEqualTo(ProcStat.SCHED_IDLE);
        assertThat(scrapeMetrics().sum("stem_shadow_threads_lowered", Map.of())).isEqualTo(1);
    }

    @Test
    void aShadowIsShedWhileServingTrafficWaitsForTheScoringSlot() throws Exception {
        PrometheusScrape before = scrapeMetrics();
        HeldEmbeddingStores.Hold hold = stores.holdNextFetch(Duration.ofMinutes(1));
        String heldId = "held-" + System.nanoTime();
        CompletableFuture<JsonNode> held = CompletableFuture.supplyAsync(() -> score(heldId, "held-user"));
        CompletableFuture<JsonNode> waiting;
        // The waiting request, once it has the slot, is held in turn: the held request's shadow is decided while
        // serving traffic either waits for the slot or holds it, never after the waiting request has finished.
        HeldEmbeddingStores.Hold next;
        try {
            assertThat(hold.awaitEntered(WITHIN)).isTrue();
            waiting = CompletableFuture.supplyAsync(() -> score("waiting-" + System.nanoTime(), "waiting-user"));
            assertThat(Polling.until(WITHIN, () -> admission.waitingForSlot() == 1)).isTrue();
            next = stores.holdNextFetchExceptOf(hold, Duration.ofMinutes(1));
        } finally {
            hold.release();
        }
        Map<String, String> overload = Map.of("shadow", "mmoe-shadow", "outcome", "overload");
        Map<String, String> scored = Map.of("shadow", "mmoe-shadow", "outcome", "scored");
        try {
            held.get(30, TimeUnit.SECONDS);
            assertThat(Polling.until(WITHIN, () -> scrapeMetrics().sum("stem_shadow_requests_total", overload)
                    - before.sum("stem_shadow_requests_total", overload) >= 1 && line(heldId, "served") != null))
                    .as("the held request's shadow shed, its served line written").isTrue();
        } finally {
            next.release();
        }
        waiting.get(30, TimeUnit.SECONDS);

        assertThat(Polling.until(WITHIN, () -> {
            PrometheusScrape now = scrapeMetrics();
            return now.sum("stem_shadow_requests_total", overload) + now.sum("stem_shadow_requests_total", scored)
                    - before.sum("stem_shadow_requests_total", overload) - before.sum("stem_shadow_requests_total", scored)
                    == 2;
        })).as("both shadows accounted for").isTrue();
        // The held request finished while the other waited for its slot or held it: its shadow was shed, and wrote
        // nothing.
        assertThat(line(heldId, "shadow")).isNull();
    }

    @Test
    void aReloadNamingAShadowModelThatDoesNotServeIsRefused() throws IOException {
        Path config = ROOT.resolve("experiments.yaml");
        try {
            Files.writeString(config, CONFIG.replace("shadow-1", "shadow-2").replace("model: mmoe", "model: mmoe-v9"));
            management.post().uri("/actuator/experiments").header("Authorization", "Bearer " + ADMIN_TOKEN).exchange()
                    .expectStatus().isEqualTo(422).expectBody()
                    .jsonPath("$.activeVersion").isEqualTo("shadow-1")
                    .jsonPath("$.error").value(String.class, error -> assertThat(error)
                            .contains("shadows[mmoe-shadow].model", "'mmoe-v9'", "not serving"));
        } finally {
            Files.writeString(config, CONFIG);
        }
    }

    private JsonNode score(String requestId, String user) {
        return client.post().uri("/v1/score").contentType(MediaType.APPLICATION_JSON).body("""
                {"requestId": "%s", "userId": "%s",
                 "candidates": [{"itemId": "a1", "features": {"advertiser": "adv1"}}, {"itemId": "a2"}]}
                """.formatted(requestId, user)).exchange().expectStatus().isOk()
                .expectBody(JsonNode.class).returnResult().getResponseBody();
    }

    /** The exposure line of {@code role} for the request, or {@code null}. */
    private static JsonNode line(String requestId, String role) {
        try {
            for (Path file : ExposureLog.exposureFiles(EXPOSURES)) {
                for (String text : Files.readAllLines(file)) {
                    JsonNode record = JSON.readTree(text);
                    if (record.get("requestId").asString().equals(requestId) && record.get("role").asString().equals(role)) {
                        return record;
                    }
                }
            }
            return null;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
