package dev.stemnet.service;

import dev.stemnet.service.bundle.BundleLoader;
import dev.stemnet.service.bundle.Manifest;
import dev.stemnet.service.bundle.Manifest.TableField;
import dev.stemnet.service.bundle.Manifest.TableSpec;
import dev.stemnet.service.bundle.ModelBundle;
import dev.stemnet.service.embedding.EmbeddingStoreFactory;
import dev.stemnet.service.embedding.MappedFileEmbeddingStore;
import dev.stemnet.service.model.LoadedModel;
import dev.stemnet.service.model.TestModelLoader;
import dev.stemnet.service.scoring.CandidateScores;
import dev.stemnet.service.scoring.Deadline;
import dev.stemnet.service.scoring.ScoreRequest;
import dev.stemnet.service.scoring.Scorer;
import dev.stemnet.service.scoring.StageTimings;
import jakarta.validation.Validation;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * Deltas in the contract's format (docs/bundle-format.md, "Deltas"), made in test code from the test bundle: no
 * trainer needed. A new item id gets rows copied from a known item's rows in every table, and an existing item can
 * have its rows replaced by another's, so the scores the service must give are the ones the base bundle gives the
 * known item: the fixtures' expected scores are the base model's for the same request with the known ids, as the
 * service's own scorer computes them. Deltas chain: {@link #next()} starts the following sequence on top of this one.
 */
public final class TestDelta {

    private static final JsonMapper JSON = JsonMapper.builder().build();
    private static final int FIXTURES = 60;
    private static LoadedModel baseModel;
    private static ModelBundle testBundle;

    private final Manifest manifest;
    private final long sequence;
    /** Every ad id added so far, this delta's included, with the base item whose base rows it has. */
    private final Map<String, String> sourceOfAddedItem;
    /** Base items whose rows earlier deltas or this one replaced, with the base item whose base rows they have now. */
    private final Map<String, String> sourceOfChangedItem;
    private final List<String> itemsAddedHere = new ArrayList<>();
    private final List<String> itemsChangedHere = new ArrayList<>();
    private final long itemVocabularyBefore;
    private final Map<String, Long> rowsBefore;
    /** An hour before the test ran: ages in the metrics come out positive and near an hour on any clock. */
    private Instant createdAt = Instant.now().truncatedTo(ChronoUnit.SECONDS).minus(1, ChronoUnit.HOURS);

    private TestDelta(Manifest manifest, long sequence, Map<String, String> added, Map<String, String> changed,
            long itemVocabularyBefore, Map<String, Long> rowsBefore) {
        this.manifest = manifest;
        this.sequence = sequence;
        this.sourceOfAddedItem = new LinkedHashMap<>(added);
        this.sourceOfChangedItem = new LinkedHashMap<>(changed);
        this.itemVocabularyBefore = itemVocabularyBefore;
        this.rowsBefore = new LinkedHashMap<>(rowsBefore);
    }

    /** Sequence 1 for the bundle in {@code bundleDir}, a copy of the test bundle (any name and version). */
    public static TestDelta first(Path bundleDir) {
        Manifest manifest = loader().load(bundleDir).manifest();
        Map<String, Long> rows = new LinkedHashMap<>();
        manifest.tables().forEach(table -> rows.put(table.name(), table.rows()));
        return new TestDelta(manifest, 1, Map.of(), Map.of(), itemField(manifest).vocabSize(), rows);
    }

    /** The next sequence, trained on this one. */
    public TestDelta next() {
        Map<String, Long> rows = new LinkedHashMap<>();
        rowsBefore.forEach((table, before) -> rows.put(table, before + appendedRows(table)));
        TestDelta next = new TestDelta(manifest, sequence + 1, sourceOfAddedItem, sourceOfChangedItem,
                itemVocabularyBefore + itemsAddedHere.size(), rows);
        next.createdAt = createdAt.plusSeconds(60);
        return next;
    }

    /** A new ad id whose rows are copies of {@code knownItem}'s: it scores as {@code knownItem} does in the base. */
    public TestDelta addItem(String newItem, String knownItem) {
        requireBaseItem(knownItem);
        sourceOfAddedItem.put(newItem, baseItemScoringAs(knownItem));
        itemsAddedHere.add(newItem);
        return this;
    }

    /** {@code item}'s rows replaced by {@code source}'s: it scores as {@code source} does in the base. */
    public TestDelta changeItem(String item, String source) {
        requireBaseItem(item);
        requireBaseItem(source);
        sourceOfChangedItem.put(item, baseItemScoringAs(source));
        itemsChangedHere.add(item);
        return this;
    }

    public TestDelta createdAt(Instant instant) {
        this.createdAt = instant;
        return this;
    }

    public Instant createdAt() {
        return createdAt;
    }

    public long sequence() {
        return sequence;
    }

    public List<String> addedItems() {
        return List.copyOf(itemsAddedHere);
    }

    /** The directory name the repository expects: the sequence in 6 digits. */
    public String directoryName() {
        return "%06d".formatted(sequence);
    }

    /** Writes the delta into {@code directory} (created) and returns it. */
    public Path writeTo(Path directory) {
        try {
            Files.createDirectories(directory.resolve("vocab"));
            Files.createDirectories(directory.resolve("tables"));
            Map<String, String> files = new TreeMap<>();
            ObjectNode delta = JSON.createObjectNode();
            delta.put("formatVersion", 1);
            ObjectNode base = delta.putObject("base");
            base.put("name", manifest.model().name());
            base.put("version", manifest.model().version());
            base.put("onnxSha256", manifest.files().get(manifest.onnx().file()));
            delta.put("sequence", sequence);
            delta.put("createdAt", createdAt.toString());
            delta.put("trainedOn", "test code: copies of known items' rows");
            ArrayNode fields = delta.putArray("fields");
            String itemField = manifest.itemIdField();
            if (!itemsAddedHere.isEmpty()) {
                String vocabulary = "vocab/" + itemField + ".txt";
                write(directory, vocabulary, (String.join("\n", itemsAddedHere) + "\n").getBytes(StandardCharsets.UTF_8),
                        files);
                fields.addObject().put("name", itemField).put("vocabSizeBefore", itemVocabularyBefore)
                        .put("vocabSizeAfter", itemVocabularyBefore + itemsAddedHere.size()).put("vocabulary", vocabulary);
            }
            ArrayNode tables = delta.putArray("tables");
            for (TableSpec table : manifest.tables()) {
                writeTable(directory, table, tables.addObject(), files);
            }
            write(directory, "parity.jsonl", fixtures().getBytes(StandardCharsets.UTF_8), files);
            delta.put("parityFixtures", "parity.jsonl");
            delta.put("parityTolerance", 1e-5);
            ObjectNode fileSums = delta.putObject("files");
            files.forEach(fileSums::put);
            Files.writeString(directory.resolve("delta.json"), JSON.writerWithDefaultPrettyPrinter().writeValueAsString(delta));
            return directory;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private void writeTable(Path directory, TableSpec table, ObjectNode node, Map<String, String> files) throws IOException {
        long before = rowsBefore.get(table.name());
        TreeMap<Long, float[]> written = new TreeMap<>();
        TableField itemColumn = table.fields().stream().filter(f -> f.name().equals(manifest.itemIdField())).findFirst()
                .orElse(null);
        ArrayNode appended = JSON.createArrayNode();
        if (itemColumn != null) {
            for (String item : itemsChangedHere) {
                written.put(baseRow(itemColumn, item), rowOf(table, baseRow(itemColumn, sourceOfChangedItem.get(item))));
            }
            for (int k = 0; k < itemsAddedHere.size(); k++) {
                String source = sourceOfAddedItem.get(itemsAddedHere.get(k));
                written.put(before + k, rowOf(table, baseRow(itemColumn, source)));
            }
            if (!itemsAddedHere.isEmpty()) {
                appended.addObject().put("field", manifest.itemIdField()).put("firstRow", before)
                        .put("count", itemsAddedHere.size());
            }
        }
        String stem = "tables/" + table.name().replace(':', '_');
        ByteBuffer rows = ByteBuffer.allocate(written.size() * Long.BYTES).order(ByteOrder.LITTLE_ENDIAN);
        ByteBuffer values = ByteBuffer.allocate(written.size() * table.dim() * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
        written.forEach((row, value) -> {
            rows.putLong(row);
            for (float v : value) {
                values.putFloat(v);
            }
        });
        write(directory, stem + ".rows", rows.array(), files);
        write(directory, stem + ".f32", values.array(), files);
        node.put("name", table.name()).put("dim", table.dim()).put("rowsBefore", before)
                .put("rowsAfter", before + appendedRows(table.name())).put("rows", stem + ".rows")
                .put("values", stem + ".f32").put("count", written.size());
        node.set("appended", appended);
    }

    private long appendedRows(String table) {
        boolean coversItems = manifest.tables().stream().filter(t -> t.name().equals(table)).findFirst().orElseThrow()
                .fields().stream().anyMatch(f -> f.name().equals(manifest.itemIdField()));
        return coversItems ? itemsAddedHere.size() : 0;
    }

    /**
     * The test bundle's first fixtures, each candidate's item replaced: mostly by the items this delta adds, every
     * third by an item whose rows it changes (when it changes any). Expected: the base model's scores of the request
     * with every id replaced by the item whose rows it has.
     */
    private String fixtures() throws IOException {
        List<String> lines = Files.readAllLines(TestBundle.directory().resolve("parity.jsonl"));
        StringBuilder out = new StringBuilder();
        int next = 0;
        for (int line = 0; line < FIXTURES; line++) {
            ObjectNode request = (ObjectNode) JSON.readTree(lines.get(line)).get("request");
            request.put("requestId", "delta-" + sequence + "-" + line);
            ObjectNode translated = request.deepCopy();
            ArrayNode candidates = (ArrayNode) request.get("candidates");
            for (int c = 0; c < candidates.size(); c++, next++) {
                String item;
                if (!itemsChangedHere.isEmpty() && (next % 3 == 2 || itemsAddedHere.isEmpty())) {
                    item = itemsChangedHere.get(next % itemsChangedHere.size());
                } else if (!itemsAddedHere.isEmpty()) {
                    item = itemsAddedHere.get(next % itemsAddedHere.size());
                } else {
                    item = candidates.get(c).get("itemId").asString();
                }
                ((ObjectNode) candidates.get(c)).put("itemId", item);
                ((ObjectNode) translated.get("candidates").get(c)).put("itemId", baseItemScoringAs(item));
            }
            ObjectNode fixture = JSON.createObjectNode();
            fixture.set("request", request);
            ArrayNode expected = fixture.putArray("expected");
            for (CandidateScores scores : baseScores(JSON.treeToValue(translated, ScoreRequest.class))) {
                ObjectNode candidate = expected.addObject();
                scores.scores().forEach(candidate::put);
            }
            out.append(JSON.writeValueAsString(fixture)).append('\n');
        }
        return out.toString();
    }

    /** The base item whose base rows {@code item} has once this delta is applied. */
    public String baseItemScoringAs(String item) {
        String added = sourceOfAddedItem.get(item);
        return added != null ? added : sourceOfChangedItem.getOrDefault(item, item);
    }

    /** The base model's scores: what the service must give a request whose ids score as these. */
    public static synchronized List<CandidateScores> baseScores(ScoreRequest request) {
        if (baseModel == null) {
            baseModel = TestModelLoader.of(EmbeddingStoreFactory.mappedFiles(), TestModelLoader.PARITY_ONLY)
                    .load(TestBundle.directory());
        }
        return baseModel.scorer().score(request, Deadline.none(), StageTimings.NONE).results();
    }

    private long baseRow(TableField itemColumn, String item) {
        int index = testBundle().vocabulary(manifest.itemIdField()).indexOf(item);
        return itemColumn.rowOffset() + index;
    }

    private float[] rowOf(TableSpec table, long row) {
        float[] value = new float[table.dim()];
        try (MappedFileEmbeddingStore files = new MappedFileEmbeddingStore(testBundle().manifest().tables(),
                spec -> testBundle().file(spec.file()))) {
            files.fetchRows(table.name(), new long[] {row}, value);
        }
        return value;
    }

    private void requireBaseItem(String item) {
        if (testBundle().vocabulary(manifest.itemIdField()).indexOf(item) == 0 || sourceOfAddedItem.containsKey(item)) {
            throw new IllegalArgumentException(item + " is not an item of the test bundle");
        }
    }

    private static Manifest.FieldSpec itemField(Manifest manifest) {
        return manifest.fields().stream().filter(f -> f.name().equals(manifest.itemIdField())).findFirst().orElseThrow();
    }

    private static synchronized ModelBundle testBundle() {
        if (testBundle == null) {
            testBundle = loader().load(TestBundle.directory());
        }
        return testBundle;
    }

    private static BundleLoader loader() {
        return new BundleLoader(Validation.buildDefaultValidatorFactory().getValidator());
    }

    private static void write(Path directory, String relativePath, byte[] bytes, Map<String, String> files)
            throws IOException {
        Files.write(directory.resolve(relativePath), bytes);
        files.put(relativePath, sha256(bytes));
    }

    public static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Rewrites a key of a written delta's delta.json, e.g. to break it; checksums cover the other files only. */
    public static void editDeltaJson(Path delta, java.util.function.Consumer<ObjectNode> edit) {
        try {
            ObjectNode json = (ObjectNode) JSON.readTree(delta.resolve("delta.json"));
            edit.accept(json);
            Files.writeString(delta.resolve("delta.json"), JSON.writeValueAsString(json));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Rewrites a file of a written delta and its sha256 in delta.json, so that only later checks see the change. */
    public static void replaceFile(Path delta, String relativePath, byte[] bytes) {
        try {
            Files.write(delta.resolve(relativePath), bytes);
            editDeltaJson(delta, json -> ((ObjectNode) json.get("files")).put(relativePath, sha256(bytes)));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Each item's scores by task, as {@code scorer} scores {@link #requestJson} for {@code items}, in item order. */
    public static List<Map<String, Double>> scores(Scorer scorer, List<String> items) {
        ScoreRequest request = JSON.readValue(requestJson("r", items), ScoreRequest.class);
        List<Map<String, Double>> scores = new ArrayList<>();
        for (CandidateScores candidate : scorer.score(request, Deadline.none(), StageTimings.NONE).results()) {
            scores.add(Map.copyOf(candidate.scores()));
        }
        return scores;
    }

    /** A request for {@code userId} scoring {@code items}, features of the first base fixture's first candidate. */
    public static String requestJson(String requestId, List<String> items) {
        try {
            JsonNode first = JSON.readTree(Files.readAllLines(TestBundle.directory().resolve("parity.jsonl")).get(0))
                    .get("request");
            ObjectNode request = (ObjectNode) first.deepCopy();
            request.put("requestId", requestId);
            ArrayNode candidates = request.putArray("candidates");
            JsonNode features = first.get("candidates").get(0).get("features");
            for (String item : items) {
                candidates.addObject().put("itemId", item).set("features", features.deepCopy());
            }
            return JSON.writeValueAsString(request);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The base model's scores of {@link #requestJson}'s request with every id replaced by {@code scoringAs}. */
    public static List<Map<String, Double>> expectedScores(List<String> items, java.util.function.UnaryOperator<String> scoringAs) {
        ScoreRequest request = JSON.readValue(requestJson("expected", items.stream().map(scoringAs).toList()),
                ScoreRequest.class);
        List<Map<String, Double>> scores = new ArrayList<>();
        baseScores(request).forEach(candidate -> scores.add(new HashMap<>(candidate.scores())));
        return scores;
    }
}
