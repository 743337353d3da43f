package dev.stemnet.service;

import static org.assertj.core.api.Assertions.assertThat;

import dev.stemnet.service.model.ModelHealthIndicator;
import dev.stemnet.service.model.ModelRegistry;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/**
 * An int8 bundle (the test bundle quantized by {@code python -m stemnet quantize}) served end to end: it passes its
 * warm-up within the manifest's own {@code parityTolerance}, its fixtures get the int8 graph's scores over HTTP, its
 * precision shows in {@code /v1/models}, health and metrics, and the tolerance is the manifest's in both directions:
 * fixtures moved by half of it still load, fixtures moved by twice it are refused while the old version serves on.
 */
class Int8ContractTest extends ServiceOverHttp {

    private static final String MODEL = "stem-net-int8";
    private static final String TOKEN = "int8-token";
    private static final JsonMapper JSON = JsonMapper.builder().build();
    private static final Path REPOSITORY = repositoryWithTheInt8Bundle();

    @Autowired
    private ModelRegistry registry;

    @Autowired
    private ModelHealthIndicator health;

    @DynamicPropertySource
    static void serveTheInt8Bundle(DynamicPropertyRegistry properties) {
        properties.add("stem.models.repository", REPOSITORY::toString);
        properties.add("stem.models.default", () -> MODEL);
        properties.add("stem.admin.token", () -> TOKEN);
    }

    @Test
    void servesTheInt8GraphsScoresForEveryParityFixtureWithinTheBundlesTolerance() throws IOException {
        JsonNode manifest = manifest(TestBundle.int8Directory());
        assertThat(manifest.get("onnx").get("precision").asString()).isEqualTo("int8");
        // The int8 fixtures would fail the FP32 default of 1e-5 against PyTorch; this bundle names its own bound.
        assertThat(manifest.get("parityTolerance").asDouble()).isGreaterThan(1e-5).isLessThanOrEqualTo(1e-3);

        ParityCheck.assertServesFixtureScores(client, TestBundle.int8Directory(), MODEL);
    }

    @Test
    void showsThePrecisionInTheModelDescriptionHealthAndMetrics() {
        JsonNode manifest = manifest(TestBundle.int8Directory());
        JsonNode model = JSON.readTree(client.get().uri("/v1/models").exchange()
                .expectStatus().isOk()
                .expectBody(String.class).returnResult().getResponseBody()).get("models").get(0);

        assertThat(model.get("precision").asString()).isEqualTo("int8");
        assertThat(model.get("parityTolerance").asDouble()).isEqualTo(manifest.get("parityTolerance").asDouble());
        assertThat(model.get("quantization")).isEqualTo(manifest.get("quantization"));
        assertThat(model.get("quantization").get("test").get("int8").get("follow").get("auc").asDouble()).isBetween(0.5, 1.0);
        assertThat(health.health().getDetails()).containsEntry("precision", "int8");
        assertThat(scrapeMetrics().has("stem_runtime_device_info", Map.of("model", MODEL, "precision", "int8"))).isTrue();
    }

    @Test
    void acceptsFixturesWithinTheBundlesToleranceThoughBeyondTheFp32One() throws IOException {
        double tolerance = manifest(TestBundle.int8Directory()).get("parityTolerance").asDouble();
        // A model of its own name, so that the version the other tests expect keeps serving under MODEL.
        Path shifted = REPOSITORY.resolve("stem-net-int8-within");
        TestBundle.copy(TestBundle.int8Directory(), shifted);
        renameModel(shifted, "stem-net-int8-within");
        shiftEveryExpectedScore(shifted, tolerance / 2);

        JsonNode attempt = findAttempt(reload(), "stem-net-int8-within");

        assertThat(attempt.get("outcome").asString()).as("%s", attempt).isEqualTo("LOADED");
        assertThat(registry.isServing("stem-net-int8-within")).isTrue();
    }

    @Test
    void rejectsFixturesBeyondTheBundlesToleranceAndKeepsServingTheOldVersion() throws IOException {
        double tolerance = manifest(TestBundle.int8Directory()).get("parityTolerance").asDouble();
        String serving = registry.serving(MODEL).orElseThrow().version();
        Path shifted = REPOSITORY.resolve("stem-net-int8-9999-beyond");
        TestBundle.copy(TestBundle.int8Directory(), shifted);
        TestBundle.setVersion(shifted, "v9999");
        shiftEveryExpectedScore(shifted, tolerance * 2);

        JsonNode attempt = findAttempt(reload(), "stem-net-int8-9999-beyond");

        assertThat(attempt.get("outcome").asString()).isEqualTo("REJECTED");
        assertThat(attempt.get("error").asString()).contains("warm-up").contains("int8 bundle")
                .contains(String.valueOf(tolerance));
        assertThat(registry.serving(MODEL).orElseThrow().version()).isEqualTo(serving).isNotEqualTo("v9999");
    }

    private JsonNode reload() {
        return JSON.readTree(management.post().uri("/actuator/models").header("Authorization", "Bearer " + TOKEN)
                .exchange()
                .expectStatus().isOk()
                .expectBody(String.class).returnResult().getResponseBody());
    }

    private static JsonNode findAttempt(JsonNode report, String directory) {
        for (JsonNode attempt : report.get("attempts")) {
            if (attempt.get("directory").asString().equals(directory)) {
                return attempt;
            }
        }
        throw new AssertionError("no load attempt for " + directory + " in " + report);
    }

    /** Moves every expected score by {@code delta} (towards 0.5, so it stays a probability); fixes the checksum. */
    private static void shiftEveryExpectedScore(Path bundle, double delta) throws IOException {
        Path fixtures = bundle.resolve("parity.jsonl");
        String oldSum = sha256(fixtures);
        List<String> lines = new ArrayList<>();
        for (String line : Files.readAllLines(fixtures)) {
            JsonNode fixture = JSON.readTree(line);
            for (JsonNode candidate : fixture.get("expected")) {
                ObjectNode scores = (ObjectNode) candidate;
                for (String task : scores.propertyNames()) {
                    double score = scores.get(task).asDouble();
                    scores.put(task, score < 0.5 ? score + delta : score - delta);
                }
            }
            lines.add(JSON.writeValueAsString(fixture));
        }
        Files.write(fixtures, lines);
        Path manifest = bundle.resolve("manifest.json");
        Files.writeString(manifest, Files.readString(manifest).replace(oldSum, sha256(fixtures)));
    }

    private static void renameModel(Path bundle, String name) throws IOException {
        Path file = bundle.resolve("manifest.json");
        ObjectNode manifest = (ObjectNode) JSON.readTree(file);
        ((ObjectNode) manifest.get("model")).put("name", name);
        Files.writeString(file, JSON.writeValueAsString(manifest));
    }

    private static String sha256(Path file) throws IOException {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(file)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static JsonNode manifest(Path bundle) {
        return JSON.readTree(bundle.resolve("manifest.json"));
    }

    private static Path repositoryWithTheInt8Bundle() {
        Path repository = TestBundle.emptyRepository("stem-int8-repository");
        TestBundle.copy(TestBundle.int8Directory(), repository.resolve("stem-net-int8-0001"));
        return repository;
    }
}
