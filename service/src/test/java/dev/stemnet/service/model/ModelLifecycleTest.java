package dev.stemnet.service.model;

import static org.assertj.core.api.Assertions.assertThat;

import dev.stemnet.service.ServiceOverHttp;
import dev.stemnet.service.TestBundle;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.http.MediaType;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/** New versions over HTTP: hot swap under load, rejected bundles, through the admin reload. */
class ModelLifecycleTest extends ServiceOverHttp {

    private static final String TOKEN = "lifecycle-token";
    private static final JsonMapper JSON = JsonMapper.builder().build();
    private static final String SCORE_BODY = """
            {"userId": "u1", "candidates": [{"itemId": "a1", "features": {"advertiser": "adv1"}}]}""";
    private static final Path REPOSITORY = TestBundle.repositoryOfItsOwn("stem-lifecycle-repository");

    @Autowired
    private ModelRegistry registry;

    @DynamicPropertySource
    static void properties(DynamicPropertyRegistry properties) {
        properties.add("stem.models.repository", REPOSITORY::toString);
        properties.add("stem.admin.token", () -> TOKEN);
    }

    /** Ready to test once the repository's first version of stem-net serves. */
    @Override
    protected boolean isReady() {
        return registry.isServing("stem-net");
    }

    @Test
    void swapsVersionsUnderConcurrentLoadWithoutAFailedRequestAndClosesTheOldOneAfterItDrains() throws Exception {
        ServingModel old = registry.serving("stem-net").orElseThrow();
        String newVersion = "v0002";
        int threads = 4;
        CountDownLatch everyThreadScoredOld = new CountDownLatch(threads);
        CountDownLatch everyThreadScoredNew = new CountDownLatch(threads);
        AtomicBoolean stop = new AtomicBoolean();
        ConcurrentLinkedQueue<String> failures = new ConcurrentLinkedQueue<>();
        List<List<String>> versionsByThread = new ArrayList<>();
        List<Thread> scorers = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            List<String> versions = new ArrayList<>();
            versionsByThread.add(versions);
            Thread scorer = new Thread(() -> {
                boolean sawOld = false;
                boolean sawNew = false;
                while (!stop.get()) {
                    var result = client.post().uri("/v1/score").contentType(MediaType.APPLICATION_JSON)
                            .body(SCORE_BODY).exchange().expectBody(String.class).returnResult();
                    if (result.getStatus().value() != 200) {
                        failures.add(result.getStatus() + " " + result.getResponseBody());
                        continue;
                    }
                    String version = JSON.readTree(result.getResponseBody()).get("model").get("version").asString();
                    versions.add(version);
                    if (!sawOld && version.equals(old.version())) {
                        sawOld = true;
                        everyThreadScoredOld.countDown();
                    }
                    if (!sawNew && version.equals(newVersion)) {
                        sawNew = true;
                        everyThreadScoredNew.countDown();
                    }
                }
            });
            scorer.start();
            scorers.add(scorer);
        }
        assertThat(everyThreadScoredOld.await(30, TimeUnit.SECONDS)).isTrue();

        TestBundle.copyWithVersion(REPOSITORY.resolve("stem-net-0002"), newVersion);
        JsonNode report = reload();

        assertThat(report.get("attempts").get(0).get("outcome").asString()).isEqualTo("LOADED");
        assertThat(everyThreadScoredNew.await(30, TimeUnit.SECONDS)).isTrue();
        stop.set(true);
        for (Thread scorer : scorers) {
            scorer.join(TimeUnit.SECONDS.toMillis(30));
        }
        assertThat(failures).isEmpty();
        for (List<String> versions : versionsByThread) {
            // One thread's requests follow each other: once it got the new version it never gets the old one.
            int firstNew = versions.indexOf(newVersion);
            assertThat(versions.subList(0, firstNew)).containsOnly(old.version());
            assertThat(versions.subList(firstNew, versions.size())).containsOnly(newVersion);
        }
        assertThat(old.awaitClosed(Duration.ofSeconds(10))).as("old version closed after draining").isTrue();
        assertThat(old.state()).isEqualTo(ServingModel.State.CLOSED);
        assertThat(registry.draining()).doesNotContain(old);
    }

    @Test
    void rejectsABundleThatFailsItsWarmUpAndKeepsServingTheOldVersion() throws Exception {
        String serving = registry.serving("stem-net").orElseThrow().version();
        Path broken = TestBundle.copyWithVersion(REPOSITORY.resolve("stem-net-9999-broken"), "v9999");
        corruptFirstExpectedScore(broken);

        JsonNode report = reload();

        JsonNode attempt = report.get("attempts").get(0);
        assertThat(attempt.get("directory").asString()).isEqualTo("stem-net-9999-broken");
        assertThat(attempt.get("outcome").asString()).isEqualTo("REJECTED");
        assertThat(attempt.get("error").asString()).contains("warm-up").contains("parity.jsonl line 1");
        assertThat(registry.serving("stem-net").orElseThrow().version()).isEqualTo(serving);
        client.post().uri("/v1/score").contentType(MediaType.APPLICATION_JSON).body(SCORE_BODY).exchange()
                .expectStatus().isOk()
                .expectBody().jsonPath("$.model.version").isEqualTo(serving);
        management.get().uri("/actuator/prometheus").exchange()
                .expectBody(String.class).value(scrape -> assertThat(scrape)
                        .contains("stem_model_loads_total{directory=\"stem-net-9999-broken\",outcome=\"rejected\"} 1.0"));
    }

    private JsonNode reload() {
        String body = management.post().uri("/actuator/models").header("Authorization", "Bearer " + TOKEN).exchange()
                .expectStatus().isOk()
                .expectBody(String.class).returnResult().getResponseBody();
        return JSON.readTree(body);
    }

    /** Moves the first expected score by 0.01 and fixes the checksum: the bundle passes every check but parity. */
    private static void corruptFirstExpectedScore(Path bundle) throws IOException, NoSuchAlgorithmException {
        Path fixtures = bundle.resolve("parity.jsonl");
        List<String> lines = new ArrayList<>(Files.readAllLines(fixtures));
        JsonNode first = JSON.readTree(lines.get(0));
        var expected = (tools.jackson.databind.node.ObjectNode) first.get("expected").get(0);
        String task = expected.propertyNames().iterator().next();
        expected.put(task, expected.get(task).asDouble() + 0.01);
        lines.set(0, JSON.writeValueAsString(first));
        Files.write(fixtures, lines);
        String oldSum = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
                .digest(Files.readAllBytes(TestBundle.directory().resolve("parity.jsonl"))));
        String newSum = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(fixtures)));
        Path manifest = bundle.resolve("manifest.json");
        Files.writeString(manifest, Files.readString(manifest).replace(oldSum, newSum));
    }
}
