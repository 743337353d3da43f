package dev.stemnet.service.delta;

import static org.assertj.core.api.Assertions.assertThat;

import dev.stemnet.service.TestBundle;
import dev.stemnet.service.TestDelta;
import dev.stemnet.service.embedding.EmbeddingStoreFactory;
import dev.stemnet.service.model.LoadedModel;
import dev.stemnet.service.model.TestModelLoader;
import dev.stemnet.service.scoring.EmbeddingState;
import jakarta.validation.Validation;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/**
 * Deltas applied to a model version serving from its bundle's files, without Spring: the new ids score with their
 * own rows, changed rows serve their new values, and every refusal reason of the contract leaves the serving state
 * and its scores exactly as they were.
 */
class DeltaApplierTest {

    private static final JsonMapper JSON = JsonMapper.builder().build();
    private static final List<String> ITEMS = List.of("fresh-1", "fresh-2", "a5", "a9", "never-seen");

    @TempDir
    Path temp;

    private Path bundle;
    private LoadedModel model;
    private final List<DeltaAttempt> told = new ArrayList<>();
    private DeltaApplier applier;

    @BeforeEach
    void loadTheBundle() {
        bundle = TestBundle.copyWithVersion(temp.resolve("bundle"), "v-delta");
        model = TestModelLoader.of(EmbeddingStoreFactory.mappedFiles(), TestModelLoader.PARITY_ONLY).load(bundle);
        applier = new DeltaApplier(new DeltaReader(Validation.buildDefaultValidatorFactory().getValidator()),
                (name, version, scorer, attempt) -> told.add(attempt));
    }

    @AfterEach
    void close() {
        model.close();
    }

    @Test
    void newItemsScoreWithTheirOwnRowsAndChangedItemsWithTheirNewRows() {
        TestDelta delta = TestDelta.first(bundle).addItem("fresh-1", "a3").addItem("fresh-2", "a7").changeItem("a5", "a9");
        List<Map<String, Double>> before = scores(ITEMS);
        // Before the delta the new ids are unknown values: the OOV row, as any unseen id.
        assertThat(before.get(0)).isEqualTo(before.get(4));

        DeltaAttempt attempt = apply(delta.writeTo(temp.resolve("d1")), 1);

        assertThat(attempt.outcome()).as(attempt.toString()).isEqualTo(DeltaAttempt.Outcome.APPLIED);
        assertThat(scores(ITEMS)).isEqualTo(TestDelta.expectedScores(ITEMS, delta::baseItemScoringAs));
        EmbeddingState state = model.scorer().embeddings();
        assertThat(state.sequence()).isEqualTo(1);
        assertThat(state.deltaCreatedAt()).isEqualTo(delta.createdAt());
        assertThat(state.vocabulary("ad_id").size()).isEqualTo(model.bundle().vocabulary("ad_id").size() + 2);
        assertThat(state.vocabulary("ad_id").indexOf("fresh-2")).isEqualTo(model.bundle().vocabulary("ad_id").size() + 1);
        model.manifest().tables().forEach(table -> assertThat(state.rows(table.name())).isEqualTo(table.rows() + 2));
        // Every table covers ad_id: 2 appended rows and the 1 changed row of a5 in each.
        assertThat(attempt.rowsByTable()).hasSize(4).allSatisfy((table, rows) -> assertThat(rows).isEqualTo(3));
        assertThat(told).containsExactly(attempt);
        assertThat(model.deltas().attempts()).containsExactly(attempt);
    }

    @Test
    void deltasChainInSequenceOrder() {
        TestDelta first = TestDelta.first(bundle).addItem("fresh-1", "a3").changeItem("a5", "a9");
        TestDelta second = first.next().addItem("fresh-2", "a5").changeItem("a9", "a11");
        Path secondDir = second.writeTo(temp.resolve("d2"));

        assertThat(apply(secondDir, 2).reason()).isEqualTo("out_of_order");
        assertThat(apply(first.writeTo(temp.resolve("d1")), 1).outcome()).isEqualTo(DeltaAttempt.Outcome.APPLIED);
        assertThat(apply(secondDir, 2).outcome()).isEqualTo(DeltaAttempt.Outcome.APPLIED);

        // fresh-2 copies a5 as delta 1 left it (a9's rows); a9 now has a11's.
        assertThat(second.baseItemScoringAs("fresh-2")).isEqualTo("a9");
        assertThat(scores(ITEMS)).isEqualTo(TestDelta.expectedScores(ITEMS, second::baseItemScoringAs));
        assertThat(model.scorer().embeddings().sequence()).isEqualTo(2);
    }

    @Test
    void aDeltaAppliedAlreadyIsSkippedNotRefused() {
        Path delta = TestDelta.first(bundle).addItem("fresh-1", "a3").writeTo(temp.resolve("d1"));
        apply(delta, 1);
        EmbeddingState applied = model.scorer().embeddings();

        DeltaAttempt again = apply(delta, 0);

        assertThat(again.outcome()).isEqualTo(DeltaAttempt.Outcome.SKIPPED);
        assertThat(again.reason()).isEqualTo(DeltaAttempt.ALREADY_APPLIED);
        assertThat(model.scorer().embeddings()).isSameAs(applied);
    }

    static Stream<Arguments> brokenDeltas() {
        return Stream.of(
                broken("unreadable", "delta.json is not JSON",
                        delta -> write(delta.resolve("delta.json"), "{not json")),
                broken("unreadable", "another format version",
                        delta -> TestDelta.editDeltaJson(delta, json -> json.put("formatVersion", 2))),
                broken("unreadable", "a listed file is missing", delta -> delete(delta.resolve("parity.jsonl"))),
                broken("unreadable", "createdAt is no instant",
                        delta -> TestDelta.editDeltaJson(delta, json -> json.put("createdAt", "yesterday"))),
                broken("checksum", "a file changed after delta.json was written",
                        delta -> write(delta.resolve("vocab/ad_id.txt"), "fresh-1\nfresh-X\n")),
                broken("checksum", "a named file without a sha256",
                        delta -> TestDelta.editDeltaJson(delta, json -> ((ObjectNode) json.get("files")).remove("parity.jsonl"))),
                broken("wrong_base", "another version",
                        delta -> TestDelta.editDeltaJson(delta, json -> ((ObjectNode) json.get("base")).put("version", "v-other"))),
                broken("wrong_base", "another graph", delta -> TestDelta.editDeltaJson(delta,
                        json -> ((ObjectNode) json.get("base")).put("onnxSha256", "0".repeat(64)))),
                broken("out_of_order", "sequence 3 while none is applied",
                        delta -> TestDelta.editDeltaJson(delta, json -> json.put("sequence", 3))),
                broken("inconsistent", "vocabSizeBefore is not the serving size",
                        delta -> TestDelta.editDeltaJson(delta, json -> ((ObjectNode) json.get("fields").get(0))
                                .put("vocabSizeBefore", 7).put("vocabSizeAfter", 9))),
                broken("inconsistent", "an added value is in the vocabulary already",
                        delta -> TestDelta.replaceFile(delta, "vocab/ad_id.txt", "fresh-1\na3\n".getBytes(StandardCharsets.UTF_8))),
                broken("inconsistent", "rows are not ascending", DeltaApplierTest::reverseRowsOfTheSharedTable),
                broken("inconsistent", "the appended block starts past rowsBefore",
                        delta -> TestDelta.editDeltaJson(delta, json -> ((ObjectNode) json.get("tables").get(0)
                                .get("appended").get(0)).put("firstRow", 10_000))),
                broken("inconsistent", "a rows file one entry short",
                        delta -> TestDelta.replaceFile(delta, "tables/shared.rows", new byte[16])),
                broken("parity", "a fixture's expected score is off",
                        DeltaApplierTest::shiftTheFirstExpectedScore),
                broken("parity", "too few fixtures", delta -> TestDelta.replaceFile(delta, "parity.jsonl",
                        String.join("\n", readLines(delta.resolve("parity.jsonl")).subList(0, 10)).getBytes(StandardCharsets.UTF_8))));
    }

    @ParameterizedTest(name = "{0}: {1}")
    @MethodSource("brokenDeltas")
    void aRefusedDeltaChangesNothing(String reason, String how, Consumer<Path> breakIt) {
        Path delta = TestDelta.first(bundle).addItem("fresh-1", "a3").addItem("fresh-2", "a7").changeItem("a5", "a9")
                .writeTo(temp.resolve("d1"));
        breakIt.accept(delta);
        EmbeddingState before = model.scorer().embeddings();
        List<Map<String, Double>> scoresBefore = scores(ITEMS);

        DeltaAttempt attempt = apply(delta, 1);

        assertThat(attempt.outcome()).isEqualTo(DeltaAttempt.Outcome.REFUSED);
        assertThat(attempt.reason()).as(attempt.message()).isEqualTo(reason);
        assertThat(attempt.message()).isNotBlank();
        assertThat(model.scorer().embeddings()).isSameAs(before);
        assertThat(scores(ITEMS)).isEqualTo(scoresBefore);
        assertThat(told).containsExactly(attempt);
    }

    private DeltaAttempt apply(Path delta, long expectedSequence) {
        return applier.apply(delta, "bundle/deltas/" + delta.getFileName(), expectedSequence, model.deltaTarget());
    }

    private List<Map<String, Double>> scores(List<String> items) {
        return TestDelta.scores(model.scorer(), items);
    }

    private static Arguments broken(String reason, String how, Consumer<Path> breakIt) {
        return Arguments.of(reason, how, breakIt);
    }

    private static void reverseRowsOfTheSharedTable(Path delta) {
        ByteBuffer rows = ByteBuffer.wrap(readBytes(delta.resolve("tables/shared.rows"))).order(ByteOrder.LITTLE_ENDIAN);
        int count = rows.limit() / Long.BYTES;
        ByteBuffer reversed = ByteBuffer.allocate(rows.limit()).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = count - 1; i >= 0; i--) {
            reversed.putLong(rows.getLong(i * Long.BYTES));
        }
        TestDelta.replaceFile(delta, "tables/shared.rows", reversed.array());
    }

    private static void shiftTheFirstExpectedScore(Path delta) {
        List<String> lines = new ArrayList<>(readLines(delta.resolve("parity.jsonl")));
        JsonNode fixture = JSON.readTree(lines.get(0));
        ObjectNode scores = (ObjectNode) fixture.get("expected").get(0);
        String task = scores.propertyNames().iterator().next();
        scores.put(task, scores.get(task).asDouble() + 0.01);
        lines.set(0, JSON.writeValueAsString(fixture));
        TestDelta.replaceFile(delta, "parity.jsonl", (String.join("\n", lines) + "\n").getBytes(StandardCharsets.UTF_8));
    }

    private static List<String> readLines(Path file) {
        try {
            return Files.readAllLines(file);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static byte[] readBytes(Path file) {
        try {
            return Files.readAllBytes(file);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static void write(Path file, String content) {
        try {
            Files.writeString(file, content);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static void delete(Path file) {
        try {
            Files.delete(file);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
