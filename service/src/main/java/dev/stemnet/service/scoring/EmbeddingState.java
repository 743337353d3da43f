package dev.stemnet.service.scoring;

import dev.stemnet.service.bundle.Manifest;
import dev.stemnet.service.bundle.Manifest.FieldSpec;
import dev.stemnet.service.bundle.Manifest.TableSpec;
import dev.stemnet.service.bundle.ModelBundle;
import dev.stemnet.service.bundle.Vocabulary;
import dev.stemnet.service.embedding.EmbeddingStore;
import dev.stemnet.service.embedding.OverlaidEmbeddingStore;
import dev.stemnet.service.embedding.RowOverlay;
import dev.stemnet.service.scoring.EmbeddingChange.AppendedBlock;
import dev.stemnet.service.scoring.EmbeddingChange.TableChange;
import java.time.Instant;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Everything a request needs to turn values into embedding rows, as of one applied delta (or none): the
 * vocabularies with the values deltas added, where the rows of added values were appended, each table's row count
 * and where rows are read (the model's store, under the rows of deltas held in memory, if any). Immutable: applying
 * a delta makes a new state ({@link #with}), and the {@link Scorer} swaps it in with one write, so a request that
 * read the state once scores entirely with the state before or entirely with the one after.
 *
 * <p>A state without deltas encodes and fetches exactly as a model did before deltas existed: no overlay in front
 * of the store, no appended-row lookup in the encoder.
 */
public final class EmbeddingState {

    private final Manifest manifest;
    private final UnknownFeaturePolicy unknownFeatures;
    private final long sequence;
    private final Instant deltaCreatedAt;
    private final Instant appliedAt;
    private final Map<String, Vocabulary> vocabularies;
    private final Map<String, Long> tableRows;
    /** Table -> field -> the row of each added index of the field, in index order. */
    private final Map<String, Map<String, long[]>> appendedRows;
    private final EmbeddingStore store;
    private final Map<String, RowOverlay> overlays;
    final FeatureEncoder encoder;
    final EmbeddingGatherer gatherer;

    private EmbeddingState(Manifest manifest, UnknownFeaturePolicy unknownFeatures, long sequence,
            Instant deltaCreatedAt, Instant appliedAt, Map<String, Vocabulary> vocabularies, Map<String, Long> tableRows,
            Map<String, Map<String, long[]>> appendedRows, EmbeddingStore store, Map<String, RowOverlay> overlays) {
        this.manifest = manifest;
        this.unknownFeatures = unknownFeatures;
        this.sequence = sequence;
        this.deltaCreatedAt = deltaCreatedAt;
        this.appliedAt = appliedAt;
        this.vocabularies = vocabularies;
        this.tableRows = tableRows;
        this.appendedRows = appendedRows;
        this.store = store;
        this.overlays = overlays;
        this.encoder = new FeatureEncoder(manifest, vocabularies, appendedRows, unknownFeatures);
        this.gatherer = new EmbeddingGatherer(overlays.isEmpty() ? store : overlaid(store, overlays, manifest));
    }

    /** The bundle as it was exported: its vocabularies, its tables, rows from {@code store}. */
    public static EmbeddingState base(ModelBundle bundle, EmbeddingStore store, UnknownFeaturePolicy unknownFeatures) {
        Manifest manifest = bundle.manifest();
        Map<String, Vocabulary> vocabularies = new HashMap<>();
        manifest.fields().forEach(field -> vocabularies.put(field.name(), bundle.vocabulary(field.name())));
        Map<String, Long> rows = new LinkedHashMap<>();
        manifest.tables().forEach(table -> rows.put(table.name(), table.rows()));
        return new EmbeddingState(manifest, unknownFeatures, 0, null, null, Map.copyOf(vocabularies), rows, Map.of(),
                store, Map.of());
    }

    /**
     * This state with {@code change} applied; nothing of this state changes. A table change that carries values
     * lays them over the store in memory; one without values reads them from the store, which holds them already.
     */
    public EmbeddingState with(EmbeddingChange change, Instant appliedAt) {
        Map<String, Vocabulary> nextVocabularies = new HashMap<>(vocabularies);
        change.addedValues().forEach((field, values) -> nextVocabularies.put(field, vocabularies.get(field).withAdded(values)));
        Map<String, Long> nextRows = new LinkedHashMap<>(tableRows);
        Map<String, Map<String, long[]>> nextAppended = new HashMap<>(appendedRows);
        Map<String, RowOverlay> nextOverlays = new HashMap<>(overlays);
        for (TableChange table : change.tables()) {
            nextRows.put(table.table(), table.rowsAfter());
            if (!table.appended().isEmpty()) {
                nextAppended.put(table.table(), appended(appendedRows.getOrDefault(table.table(), Map.of()), table.appended()));
            }
            if (table.values() != null && table.rows().length > 0) {
                RowOverlay overlay = overlays.getOrDefault(table.table(),
                        RowOverlay.empty(table(table.table()).dim(), tableRows.get(table.table())));
                nextOverlays.put(table.table(), overlay.merge(table.rows(), table.values()));
            }
        }
        return new EmbeddingState(manifest, unknownFeatures, change.sequence(), change.createdAt(), appliedAt,
                Map.copyOf(nextVocabularies), nextRows, Map.copyOf(nextAppended), store, Map.copyOf(nextOverlays));
    }

    private static Map<String, long[]> appended(Map<String, long[]> before, List<AppendedBlock> blocks) {
        Map<String, long[]> after = new HashMap<>(before);
        for (AppendedBlock block : blocks) {
            long[] previous = before.getOrDefault(block.field(), new long[0]);
            long[] rows = Arrays.copyOf(previous, Math.toIntExact(previous.length + block.count()));
            for (int k = 0; k < block.count(); k++) {
                rows[previous.length + k] = block.firstRow() + k;
            }
            after.put(block.field(), rows);
        }
        return Map.copyOf(after);
    }

    private static EmbeddingStore overlaid(EmbeddingStore store, Map<String, RowOverlay> overlays, Manifest manifest) {
        Map<String, Integer> dims = new HashMap<>();
        manifest.tables().forEach(table -> dims.put(table.name(), table.dim()));
        return new OverlaidEmbeddingStore(store, overlays, dims);
    }

    private TableSpec table(String name) {
        return manifest.tables().stream().filter(table -> table.name().equals(name)).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("unknown table '" + name + "'"));
    }

    public Manifest manifest() {
        return manifest;
    }

    /** The sequence of the newest delta applied, 0 for none. */
    public long sequence() {
        return sequence;
    }

    /** When the trainer wrote the newest delta applied; null for none. */
    public Instant deltaCreatedAt() {
        return deltaCreatedAt;
    }

    /** When the newest delta was applied here; null for none. */
    public Instant appliedAt() {
        return appliedAt;
    }

    /** The field's vocabulary with every value deltas added. */
    public Vocabulary vocabulary(String field) {
        Vocabulary vocabulary = vocabularies.get(field);
        if (vocabulary == null) {
            throw new IllegalArgumentException("unknown field '" + field + "'");
        }
        return vocabulary;
    }

    /** The table's rows, appended ones included. */
    public long rows(String table) {
        Long rows = tableRows.get(table);
        if (rows == null) {
            throw new IllegalArgumentException("unknown table '" + table + "'");
        }
        return rows;
    }

    /** Vocabulary sizes (OOV row included) by field, in the manifest's order. */
    public Map<String, Long> vocabularySizes() {
        Map<String, Long> sizes = new LinkedHashMap<>();
        for (FieldSpec field : manifest.fields()) {
            sizes.put(field.name(), vocabularies.get(field.name()).size());
        }
        return sizes;
    }

    /** Row counts by table, in the manifest's order. */
    public Map<String, Long> tableRows() {
        return Collections.unmodifiableMap(tableRows);
    }

    /** Rows held in memory above the store, over all tables: 0 where the store holds every row (Redis). */
    public long overlaidRows() {
        return overlays.values().stream().mapToLong(RowOverlay::size).sum();
    }

    /** Where requests read rows: the model's store, or the overlays of deltas in front of it. */
    public EmbeddingStore rowSource() {
        return gatherer.store();
    }
}
