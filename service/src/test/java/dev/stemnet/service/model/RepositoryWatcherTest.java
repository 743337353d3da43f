package dev.stemnet.service.model;

import static org.assertj.core.api.Assertions.assertThat;

import dev.stemnet.service.Polling;
import dev.stemnet.service.ServiceOverHttp;
import dev.stemnet.service.TestBundle;
import dev.stemnet.service.TestDelta;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.http.MediaType;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * {@code stem.models.watch=true}: bundles dropped into the repository are picked up without anyone asking,
 * the good ones swapped in, the broken ones refused while the serving version goes on.
 */
class RepositoryWatcherTest extends ServiceOverHttp {

    private static final String TOKEN = "watcher-token";
    private static final JsonMapper JSON = JsonMapper.builder().build();
    private static final String SCORE_BODY = """
            {"userId": "u1", "candidates": [{"itemId": "a1", "features": {"advertiser": "adv1"}}]}""";
    /** Well past the debounce and a load of the tiny bundle; polling ends as soon as the change is seen. */
    private static final Duration PICKED_UP_WITHIN = Duration.ofSeconds(30);
    private static final Path REPOSITORY = TestBundle.repositoryOfItsOwn("stem-watched-repository");

    @Autowired
    private ModelRegistry registry;

    @DynamicPropertySource
    static void properties(DynamicPropertyRegistry properties) {
        properties.add("stem.models.repository", REPOSITORY::toString);
        properties.add("stem.models.watch", () -> "true");
        properties.add("stem.models.watch-debounce", () -> "200ms");
        properties.add("stem.admin.token", () -> TOKEN);
    }

    /** Ready to test once the repository's first version of stem-net serves. */
    @Override
    protected boolean isReady() {
        return registry.isServing("stem-net");
    }

    @Override
    protected Duration readyWithin() {
        return PICKED_UP_WITHIN;
    }

    @Test
    void swapsInANewVersionCopiedIntoTheRepositoryByItself() {
        // Copied file by file right into the repository, manifest rewritten last: the debounce waits for the end.
        TestBundle.copyWithVersion(REPOSITORY.resolve("stem-net-0002"), "v0002");

        assertThat(Polling.until(PICKED_UP_WITHIN, () -> scoredVersion().equals("v0002")))
                .as("scores come from v0002 without a reload being asked for").isTrue();
        client.get().uri("/v1/models").exchange()
                .expectStatus().isOk()
                .expectBody()
                .jsonPath("$.models[?(@.state == 'READY')].version")
                .value(List.class, versions -> assertThat(versions).containsExactly("v0002"));
    }

    @Test
    void refusesABrokenBundleDroppedInAndKeepsServingTheVersionBefore(@TempDir Path staging) throws IOException {
        String serving = scoredVersion();
        Path broken = TestBundle.copyWithVersion(staging.resolve("stem-net-0003-broken"), "v0003");
        // One byte more than the manifest's sha256 covers.
        Files.writeString(broken.resolve("vocab").resolve(firstVocabulary(broken)), "x\n", StandardOpenOption.APPEND);

        // Moved in whole, so the scan sees exactly this bundle; it sorts last and would serve if it loaded.
        Files.move(broken, REPOSITORY.resolve("stem-net-0003-broken"), StandardCopyOption.ATOMIC_MOVE);

        assertThat(Polling.until(PICKED_UP_WITHIN, () -> lastOutcome("stem-net-0003-broken").equals("REJECTED")))
                .as("the broken bundle is tried and rejected without a reload being asked for").isTrue();
        assertThat(scoredVersion()).isEqualTo(serving);
        assertThat(registry.serving("stem-net").orElseThrow().version()).isEqualTo(serving);
    }

    @Test
    void appliesADeltaMovedIntoTheServingBundlesDeltasWithoutReloadingIt(@TempDir Path staging) throws IOException {
        ServingModel serving = registry.serving("stem-net").orElseThrow();
        Path bundle = serving.model().bundle().directory();
        TestDelta delta = TestDelta.first(bundle).addItem("watched-ad", "a12");
        Path staged = delta.writeTo(staging.resolve(delta.directoryName()));
        Files.createDirectories(bundle.resolve("deltas"));

        Files.move(staged, bundle.resolve("deltas").resolve(delta.directoryName()), StandardCopyOption.ATOMIC_MOVE);

        assertThat(Polling.until(PICKED_UP_WITHIN, () -> serving.model().scorer().embeddings().sequence() == 1))
                .as("the delta is applied without a reload being asked for").isTrue();
        assertThat(registry.serving("stem-net").orElseThrow()).as("the bundle was not loaded again").isSameAs(serving);
        List<String> items = List.of("watched-ad", "a12");
        String body = client.post().uri("/v1/score").contentType(MediaType.APPLICATION_JSON)
                .body(TestDelta.requestJson("watched", items)).exchange()
                .expectStatus().isOk().expectBody(String.class).returnResult().getResponseBody();
        JsonNode results = JSON.readTree(body).get("results");
        assertThat(results.get(0).get("scores")).as("the new ad scores with its own rows, copies of a12's")
                .isEqualTo(results.get(1).get("scores"));
    }

    private String scoredVersion() {
        String body = client.post().uri("/v1/score").contentType(MediaType.APPLICATION_JSON).body(SCORE_BODY).exchange()
                .expectStatus().isOk()
                .expectBody(String.class).returnResult().getResponseBody();
        return JSON.readTree(body).get("model").get("version").asString();
    }

    /** The outcome of the latest load attempt of {@code directory}, {@code NONE} before there is one. */
    private String lastOutcome(String directory) {
        String body = management.get().uri("/actuator/models").header("Authorization", "Bearer " + TOKEN).exchange()
                .expectStatus().isOk()
                .expectBody(String.class).returnResult().getResponseBody();
        for (JsonNode attempt : JSON.readTree(body).get("lastAttempts")) {
            if (attempt.get("directory").asString().equals(directory)) {
                return attempt.get("outcome").asString();
            }
        }
        return "NONE";
    }

    private static String firstVocabulary(Path bundle) throws IOException {
        try (var files = Files.list(bundle.resolve("vocab"))) {
            return files.map(file -> file.getFileName().toString()).sorted().findFirst().orElseThrow();
        }
    }
}
