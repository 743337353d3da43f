package dev.stemnet.service.model;

import static org.assertj.core.api.Assertions.assertThat;

import dev.stemnet.service.ServiceOverHttp;
import dev.stemnet.service.TestBundle;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.context.annotation.Import;
import org.springframework.http.MediaType;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/** New versions over HTTP: warm-up and hot swap under load, rejected bundles, through the admin reload. */
@Import(ObservedWarmups.Wiring.class)
class ModelLifecycleTest extends ServiceOverHttp {

    private static final String TOKEN = "lifecycle-token";
    private static final JsonMapper JSON = JsonMapper.builder().build();
    private static final String SCORE_BODY = """
            {"userId": "u1", "candidates": [{"itemId": "a1", "features": {"advertiser": "adv1"}}]}""";
    private static final Path REPOSITORY = TestBundle.repositoryOfItsOwn("stem-lifecycle-repository");
    private static final int WARMUP_REQUESTS = 60;

    @Autowired
    private ModelRegistry registry;

    @Autowired
    private ObservedWarmups warmups;

    @DynamicPropertySource
    static void properties(DynamicPropertyRegistry properties) {
        properties.add("stem.models.repository", REPOSITORY::toString);
        properties.add("stem.admin.token", () -> TOKEN);
        properties.add("stem.warmup.requests", () -> String.valueOf(WARMUP_REQUESTS));
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

        assertThat(rejectionWhileServing(report, "stem-net-9999-broken", serving))
                .contains("warm-up").contains("parity.jsonl line 1");
        management.get().uri("/actuator/prometheus").exchange()
                .expectBody(String.class).value(scrape -> assertThat(scrape)
                        .contains("stem_model_loads_total{directory=\"stem-net-9999-broken\",outcome=\"rejected\"} 1.0"));
    }

    @Test
    void warmsANewVersionOnGeneratedTrafficWhileTheOldOneServesThenSwapsItIn() {
        String serving = registry.serving("stem-net").orElseThrow().version();
        TestBundle.copyWithVersion(REPOSITORY.resolve("stem-net-0003"), "v0003");

        JsonNode report = reload();

        assertThat(report.get("attempts").get(0).get("outcome").asString()).isEqualTo("LOADED");
        ObservedWarmups.Observation warmup = warmups.of("v0003");
        assertThat(warmup.report().requests()).isEqualTo(WARMUP_REQUESTS);
        assertThat(warmup.servingVersion()).as("serving once the new version's warm-up was done").isEqualTo(serving);
        assertThat(registry.serving("stem-net").orElseThrow().version()).isEqualTo("v0003");
    }

    @Test
    void rejectsABundleWhoseGeneratedTrafficScoresNaNAndKeepsServingTheOldVersion() throws Exception {
        String serving = registry.serving("stem-net").orElseThrow().version();
        Path broken = TestBundle.copyWithVersion(REPOSITORY.resolve("stem-net-9998-nan-rows"), "v9998");
        breakUsersOutsideTheFixtures(broken);

        JsonNode report = reload();

        assertThat(rejectionWhileServing(report, "stem-net-9998-nan-rows", serving))
                .contains("warm-up: generated request").contains("scored NaN");
    }

    /**
     * Asserts that the reload's one attempt rejected {@code directory} and that {@code serving} still answers.
     *
     * @return the reason given for the rejection
     */
    private String rejectionWhileServing(JsonNode report, String directory, String serving) {
        JsonNode attempt = report.get("attempts").get(0);
        assertThat(attempt.get("directory").asString()).isEqualTo(directory);
        assertThat(attempt.get("outcome").asString()).isEqualTo("REJECTED");
        assertThat(registry.serving("stem-net").orElseThrow().version()).isEqualTo(serving);
        client.post().uri("/v1/score").contentType(MediaType.APPLICATION_JSON).body(SCORE_BODY).exchange()
                .expectStatus().isOk()
                .expectBody().jsonPath("$.model.version").isEqualTo(serving);
        return attempt.get("error").asString();
    }

    private JsonNode reload() {
        String body = management.post().uri("/actuator/models").header("Authorization", "Bearer " + TOKEN).exchange()
                .expectStatus().isOk()
                .expectBody(String.class).returnResult().getResponseBody();
        return JSON.readTree(body);
    }

    /** Moves the first expected score by 0.01 and fixes the checksum: the bundle passes every check but parity. */
    private static void corruptFirstExpectedScore(Path bundle) throws IOException, NoSuchAlgorithmException {
        List<String> lines = new ArrayList<>(Files.readAllLines(bundle.resolve("parity.jsonl")));
        JsonNode first = JSON.readTree(lines.get(0));
        var expected = (tools.jackson.databind.node.ObjectNode) first.get("expected").get(0);
        String task = expected.propertyNames().iterator().next();
        expected.put(task, expected.get(task).asDouble() + 0.01);
        lines.set(0, JSON.writeValueAsString(first));
        rewrite(bundle, "parity.jsonl", (String.join("\n", lines) + "\n").getBytes(StandardCharsets.UTF_8));
    }

    /**
     * NaN in the first table's row of every known user no parity fixture names: the bundle passes every check and
     * its parity fixtures, while traffic drawing users from the whole vocabulary scores NaN.
     */
    private static void breakUsersOutsideTheFixtures(Path bundle) throws IOException, NoSuchAlgorithmException {
        JsonNode manifest = JSON.readTree(bundle.resolve("manifest.json").toFile());
        String userIdField = manifest.get("userIdField").asString();
        Set<String> fixtureUsers = new HashSet<>();
        for (String line : Files.readAllLines(bundle.resolve("parity.jsonl"))) {
            fixtureUsers.add(JSON.readTree(line).get("request").get("userId").asString());
        }
        JsonNode table = manifest.get("tables").get(0);
        int dim = table.get("dim").asInt();
        long firstUserRow = 0;
        for (JsonNode field : table.get("fields")) {
            if (field.get("name").asString().equals(userIdField)) {
                firstUserRow = field.get("rowOffset").asLong() + 1;
            }
        }
        String vocabulary = null;
        for (JsonNode field : manifest.get("fields")) {
            if (field.get("name").asString().equals(userIdField)) {
                vocabulary = field.get("vocabulary").asString();
            }
        }
        List<String> users = Files.readAllLines(bundle.resolve(vocabulary));
        String file = table.get("file").asString();
        ByteBuffer rows = ByteBuffer.wrap(Files.readAllBytes(bundle.resolve(file))).order(ByteOrder.LITTLE_ENDIAN);
        for (int user = 0; user < users.size(); user++) {
            if (!fixtureUsers.contains(users.get(user))) {
                for (int d = 0; d < dim; d++) {
                    rows.putFloat((int) (((firstUserRow + user) * dim + d) * Float.BYTES), Float.NaN);
                }
            }
        }
        rewrite(bundle, file, rows.array());
    }

    /** Replaces a file of the bundle and its checksum in the manifest. */
    private static void rewrite(Path bundle, String file, byte[] content) throws IOException, NoSuchAlgorithmException {
        Path path = bundle.resolve(file);
        String oldSum = sha256(Files.readAllBytes(path));
        Files.write(path, content);
        Path manifest = bundle.resolve("manifest.json");
        Files.writeString(manifest, Files.readString(manifest).replace(oldSum, sha256(content)));
    }

    private static String sha256(byte[] content) throws NoSuchAlgorithmException {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(content));
    }
}
