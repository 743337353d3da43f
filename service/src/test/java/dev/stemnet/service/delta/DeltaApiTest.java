package dev.stemnet.service.delta;

import static org.assertj.core.api.Assertions.assertThat;

import dev.stemnet.service.PrometheusScrape;
import dev.stemnet.service.ServiceOverHttp;
import dev.stemnet.service.TestBundle;
import dev.stemnet.service.TestDelta;
import dev.stemnet.service.model.ModelRegistry;
import dev.stemnet.service.model.ServingModel;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.http.MediaType;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Deltas of the mapped-file store over HTTP: moved into the serving bundle's {@code deltas/} and applied by
 * {@code POST /actuator/models} without a reload, shown by {@code GET /v1/models}, {@code GET /actuator/models} and
 * the metrics; a refused one changes no score; deltas applied while requests flow fail none of them and mix no
 * states. The tests build one chain of deltas, in order.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class DeltaApiTest extends ServiceOverHttp {

    private static final String TOKEN = "delta-token";
    private static final JsonMapper JSON = JsonMapper.builder().build();
    private static final Path REPOSITORY = TestBundle.repositoryOfItsOwn("stem-delta-repository");
    private static final Path BUNDLE = REPOSITORY.resolve("stem-net-0001");
    /** The latest delta written, which the next one follows. */
    private static TestDelta latest;

    @Autowired
    private ModelRegistry registry;

    @DynamicPropertySource
    static void properties(DynamicPropertyRegistry properties) {
        properties.add("stem.models.repository", REPOSITORY::toString);
        properties.add("stem.admin.token", () -> TOKEN);
        properties.add("stem.warmup.requests", () -> "0");
    }

    @Override
    protected boolean isReady() {
        return registry.isServing("stem-net");
    }

    @Test
    @Order(1)
    void appliesADeltaOnReloadWithoutReloadingTheBundleAndShowsIt() {
        ServingModel serving = registry.serving("stem-net").orElseThrow();
        JsonNode modelBefore = publicModel();
        List<String> items = List.of("new-ad-1", "new-ad-2", "a4", "a6");
        TestDelta delta = next().addItem("new-ad-1", "a2").addItem("new-ad-2", "a3").changeItem("a4", "a6");
        moveIn(delta);

        JsonNode report = reload();

        assertThat(report.get("attempts")).as("the bundle is not reloaded").isEmpty();
        JsonNode attempt = report.get("deltas").get(0);
        assertThat(attempt.get("outcome").asString()).isEqualTo("APPLIED");
        assertThat(attempt.get("source").asString()).isEqualTo("stem-net-0001/deltas/000001");
        assertThat(scores(items)).isEqualTo(TestDelta.expectedScores(items, delta::baseItemScoringAs));
        assertThat(registry.serving("stem-net").orElseThrow()).isSameAs(serving);

        JsonNode model = publicModel();
        assertThat(model.get("deltas").get("sequence").asLong()).isEqualTo(1);
        assertThat(model.get("deltas").get("createdAt").asString()).isEqualTo(delta.createdAt().toString());
        assertThat(model.get("deltas").get("appliedAt").isNull()).isFalse();
        assertThat(model.get("load")).isEqualTo(modelBefore.get("load"));
        assertThat(field(model, "ad_id").get("vocabSize").asLong()).isEqualTo(field(modelBefore, "ad_id").get("vocabSize").asLong() + 2);
        assertThat(model.toString()).doesNotContain(REPOSITORY.toString());

        JsonNode deltas = adminVersion().get("deltas");
        assertThat(deltas.get("appliedSequence").asLong()).isEqualTo(1);
        JsonNode last = deltas.get("lastAttempts").get(deltas.get("lastAttempts").size() - 1);
        assertThat(last.get("outcome").asString()).isEqualTo("APPLIED");
        assertThat(last.get("rowsByTable").get("shared").asLong()).isEqualTo(3);

        PrometheusScrape metrics = scrapeMetrics();
        assertThat(metrics.sum("stem_deltas_total", Map.of("model", "stem-net", "outcome", "applied", "reason", "none")))
                .isEqualTo(1);
        assertThat(metrics.sum("stem_delta_rows_total", Map.of("model", "stem-net", "table", "task:pay"))).isEqualTo(3);
        assertThat(metrics.sum("stem_delta_sequence", Map.of("model", "stem-net", "version", "v0001"))).isEqualTo(1);
        assertThat(metrics.sum("stem_vocabulary_size", Map.of("model", "stem-net", "field", "ad_id")))
                .isEqualTo(field(model, "ad_id").get("vocabSize").asLong());
        assertThat(metrics.sum("stem_delta_age_seconds", Map.of("model", "stem-net")))
                .as("seconds since the delta's createdAt, an hour ago").isBetween(3600.0, 4000.0);
    }

    @Test
    @Order(2)
    void aRefusedDeltaChangesNoScoreAndIsNotTriedAgainUntilItsFilesChange() throws IOException {
        List<String> items = List.of("new-ad-3", "a4", "a8");
        List<Map<String, Double>> before = scores(items);
        TestDelta delta = next().addItem("new-ad-3", "a9").changeItem("a8", "a10");
        Path moved = moveIn(delta);
        // The trainer's fixtures disagree with the rows: as a delta trained against other rows would.
        List<String> fixtures = new ArrayList<>(Files.readAllLines(moved.resolve("parity.jsonl")));
        JsonNode fixture = JSON.readTree(fixtures.get(3));
        var expected = (tools.jackson.databind.node.ObjectNode) fixture.get("expected").get(0);
        String task = expected.propertyNames().iterator().next();
        expected.put(task, expected.get(task).asDouble() + 0.01);
        fixtures.set(3, JSON.writeValueAsString(fixture));
        TestDelta.replaceFile(moved, "parity.jsonl", (String.join("\n", fixtures) + "\n").getBytes());

        JsonNode attempt = reload().get("deltas").get(0);

        assertThat(attempt.get("outcome").asString()).isEqualTo("REFUSED");
        assertThat(attempt.get("reason").asString()).isEqualTo("parity");
        assertThat(attempt.get("message").asString()).contains("parity.jsonl line 4");
        assertThat(scores(items)).isEqualTo(before);
        assertThat(reload().get("deltas")).as("not tried again while its files stay the same").isEmpty();
        JsonNode last = lastAdminAttempt();
        assertThat(last.get("reason").asString()).isEqualTo("parity");
        assertThat(scrapeMetrics().sum("stem_deltas_total", Map.of("outcome", "refused", "reason", "parity"))).isEqualTo(1);

        // Replaced by a good delta of the same sequence: its files changed, so it is tried again.
        delete(moved);
        moveIn(delta);
        assertThat(reload().get("deltas").get(0).get("outcome").asString()).isEqualTo("APPLIED");
        assertThat(scores(items)).isEqualTo(TestDelta.expectedScores(items, delta::baseItemScoringAs));
    }

    /**
     * Four deltas applied one after the other while four threads score the same request: a20's rows change in each
     * and each adds one ad, so every state scores the request differently. Every answer must be exactly one state's.
     */
    @Test
    @Order(3)
    void deltasAppliedUnderConcurrentScoringFailNoRequestAndMixNoStates() throws Exception {
        List<String> items = List.of("a20", "burst-1", "burst-2", "burst-3", "burst-4");
        List<List<Map<String, Double>>> states = new ArrayList<>();
        states.add(TestDelta.expectedScores(items, scoringAs(latest)));
        List<TestDelta> deltas = new ArrayList<>();
        for (int k = 1; k <= 4; k++) {
            TestDelta delta = next().addItem("burst-" + k, "a" + (30 + k)).changeItem("a20", "a" + (20 + k));
            deltas.add(delta);
            states.add(TestDelta.expectedScores(items, scoringAs(delta)));
        }
        AtomicBoolean stop = new AtomicBoolean();
        ConcurrentLinkedQueue<String> failures = new ConcurrentLinkedQueue<>();
        ConcurrentLinkedQueue<Integer> statesSeen = new ConcurrentLinkedQueue<>();
        // The scorers must be seen answering in the first state before any delta and in the last one after all of
        // them; without these latches a fast reload sequence can finish before any request observes either end.
        CountDownLatch firstStateSeen = new CountDownLatch(1);
        CountDownLatch lastStateSeen = new CountDownLatch(1);
        List<Thread> threads = new ArrayList<>();
        for (int t = 0; t < 4; t++) {
            Thread thread = new Thread(() -> {
                while (!stop.get()) {
                    var result = client.post().uri("/v1/score").contentType(MediaType.APPLICATION_JSON)
                            .body(TestDelta.requestJson("burst", items)).exchange().expectBody(String.class).returnResult();
                    if (result.getStatus().value() != 200) {
                        failures.add(result.getStatus() + " " + result.getResponseBody());
                        continue;
                    }
                    List<Map<String, Double>> scores = parseScores(result.getResponseBody());
                    int state = matchingState(states, scores);
                    if (state < 0) {
                        failures.add("scores of no single state: " + scores);
                    }
                    statesSeen.add(state);
                    if (state == 0) {
                        firstStateSeen.countDown();
                    } else if (state == states.size() - 1) {
                        lastStateSeen.countDown();
                    }
                }
            });
            thread.start();
            threads.add(thread);
        }
        assertThat(firstStateSeen.await(30, TimeUnit.SECONDS)).as("a request scored before the first delta").isTrue();
        for (TestDelta delta : deltas) {
            moveIn(delta);
            assertThat(reload().get("deltas").get(0).get("outcome").asString()).isEqualTo("APPLIED");
        }
        boolean lastSeen = lastStateSeen.await(30, TimeUnit.SECONDS);
        stop.set(true);
        for (Thread thread : threads) {
            thread.join(30_000);
        }

        assertThat(failures).isEmpty();
        assertThat(lastSeen).as("a request scored after the last delta").isTrue();
        assertThat(statesSeen).contains(0, 4);
        assertThat(scores(items)).isEqualTo(states.get(4));
    }

    private static int matchingState(List<List<Map<String, Double>>> states, List<Map<String, Double>> scores) {
        for (int s = 0; s < states.size(); s++) {
            if (close(states.get(s), scores)) {
                return s;
            }
        }
        return -1;
    }

    private static boolean close(List<Map<String, Double>> expected, List<Map<String, Double>> actual) {
        if (expected.size() != actual.size()) {
            return false;
        }
        for (int c = 0; c < expected.size(); c++) {
            for (Map.Entry<String, Double> score : expected.get(c).entrySet()) {
                Double served = actual.get(c).get(score.getKey());
                if (served == null || Math.abs(served - score.getValue()) > 1e-6) {
                    return false;
                }
            }
        }
        return true;
    }

    private static UnaryOperator<String> scoringAs(TestDelta delta) {
        return delta == null ? UnaryOperator.identity() : delta::baseItemScoringAs;
    }

    private static TestDelta next() {
        latest = latest == null ? TestDelta.first(BUNDLE) : latest.next();
        return latest;
    }

    /** Written elsewhere and moved in whole, as the contract asks. */
    private static Path moveIn(TestDelta delta) {
        try {
            Path staged = delta.writeTo(Files.createTempDirectory("staged-delta").resolve(delta.directoryName()));
            Files.createDirectories(BUNDLE.resolve("deltas"));
            return Files.move(staged, BUNDLE.resolve("deltas").resolve(delta.directoryName()), StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void delete(Path directory) throws IOException {
        try (var paths = Files.walk(directory)) {
            for (Path path : paths.sorted((a, b) -> b.compareTo(a)).toList()) {
                Files.delete(path);
            }
        }
    }

    private List<Map<String, Double>> scores(List<String> items) {
        String body = client.post().uri("/v1/score").contentType(MediaType.APPLICATION_JSON)
                .body(TestDelta.requestJson("r", items)).exchange()
                .expectStatus().isOk().expectBody(String.class).returnResult().getResponseBody();
        return parseScores(body);
    }

    /** Each candidate's scores as the response's numbers read back: the service writes float32 values. */
    private static List<Map<String, Double>> parseScores(String body) {
        List<Map<String, Double>> scores = new ArrayList<>();
        for (JsonNode result : JSON.readTree(body).get("results")) {
            Map<String, Double> candidate = new TreeMap<>();
            for (Iterator<String> tasks = result.get("scores").propertyNames().iterator(); tasks.hasNext(); ) {
                String task = tasks.next();
                candidate.put(task, (double) Float.parseFloat(result.get("scores").get(task).asString()));
            }
            scores.add(candidate);
        }
        return scores;
    }

    private JsonNode reload() {
        return JSON.readTree(management.post().uri("/actuator/models").header("Authorization", "Bearer " + TOKEN)
                .exchange().expectStatus().isOk().expectBody(String.class).returnResult().getResponseBody());
    }

    private JsonNode publicModel() {
        return JSON.readTree(client.get().uri("/v1/models").exchange().expectStatus().isOk()
                .expectBody(String.class).returnResult().getResponseBody()).get("models").get(0);
    }

    private JsonNode adminVersion() {
        return JSON.readTree(management.get().uri("/actuator/models").header("Authorization", "Bearer " + TOKEN)
                .exchange().expectStatus().isOk().expectBody(String.class).returnResult().getResponseBody())
                .get("versions").get(0);
    }

    private JsonNode lastAdminAttempt() {
        JsonNode attempts = adminVersion().get("deltas").get("lastAttempts");
        return attempts.get(attempts.size() - 1);
    }

    private static JsonNode field(JsonNode model, String name) {
        for (JsonNode field : model.get("fields")) {
            if (field.get("name").asString().equals(name)) {
                return field;
            }
        }
        throw new AssertionError("no field " + name);
    }
}
