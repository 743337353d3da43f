package dev.stemnet.service.delta;

import dev.stemnet.service.bundle.Manifest;
import dev.stemnet.service.bundle.Manifest.TableField;
import dev.stemnet.service.bundle.Manifest.TableSpec;
import dev.stemnet.service.bundle.Vocabulary;
import dev.stemnet.service.delta.DeltaManifest.Appended;
import dev.stemnet.service.delta.DeltaManifest.FieldGrowth;
import dev.stemnet.service.delta.DeltaManifest.TableChange;
import dev.stemnet.service.scoring.EmbeddingChange;
import dev.stemnet.service.scoring.EmbeddingChange.AppendedBlock;
import dev.stemnet.service.scoring.EmbeddingState;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The {@code inconsistent} check: the delta's sizes, tables, dims, appended blocks and row lists agree with the
 * serving state and with each other, and its added values are new. What passes becomes the {@link EmbeddingChange}
 * that {@link EmbeddingState#with} applies without checking again.
 */
public final class DeltaConsistency {

    private DeltaConsistency() {}

    /** @throws DeltaRefusedException {@code inconsistent}, naming the key or file */
    public static EmbeddingChange check(DeltaManifest delta, Instant createdAt, DeltaContents contents,
            EmbeddingState state) {
        Manifest manifest = state.manifest();
        Map<String, List<String>> added = checkFields(delta, contents, state);
        if (delta.tables().size() != manifest.tables().size()) {
            throw inconsistent("tables lists " + delta.tables().size() + " tables, the model has "
                    + manifest.tables().size() + ": every table of the base, in the manifest's order");
        }
        List<EmbeddingChange.TableChange> tables = new ArrayList<>();
        for (int t = 0; t < manifest.tables().size(); t++) {
            tables.add(checkTable("tables[" + t + "]", delta.tables().get(t), manifest.tables().get(t), added, contents,
                    state));
        }
        return new EmbeddingChange(delta.sequence(), createdAt, added, tables);
    }

    /** @return the added values by field */
    private static Map<String, List<String>> checkFields(DeltaManifest delta, DeltaContents contents,
            EmbeddingState state) {
        Set<String> fieldNames = new HashSet<>();
        state.manifest().fields().forEach(field -> fieldNames.add(field.name()));
        Map<String, List<String>> added = new LinkedHashMap<>();
        for (int f = 0; f < delta.fields().size(); f++) {
            FieldGrowth field = delta.fields().get(f);
            String key = "fields[" + f + "] ('" + field.name() + "')";
            if (!fieldNames.contains(field.name())) {
                throw inconsistent(key + " is not a field of the model");
            }
            if (added.containsKey(field.name())) {
                throw inconsistent(key + " is listed twice");
            }
            Vocabulary vocabulary = state.vocabulary(field.name());
            if (field.vocabSizeBefore() != vocabulary.size()) {
                throw inconsistent(key + " vocabSizeBefore is " + field.vocabSizeBefore() + ", the serving vocabulary"
                        + " has " + vocabulary.size() + " (values + 1 OOV row)");
            }
            List<String> values = contents.addedValues().get(field.name());
            if (values.isEmpty()) {
                throw inconsistent(field.vocabulary() + " adds no value; fields lists only the fields that grow");
            }
            if (field.vocabSizeAfter() != field.vocabSizeBefore() + values.size()) {
                throw inconsistent(key + " vocabSizeAfter is " + field.vocabSizeAfter() + ", but vocabSizeBefore "
                        + field.vocabSizeBefore() + " + " + values.size() + " added values = "
                        + (field.vocabSizeBefore() + values.size()));
            }
            Set<String> seen = new HashSet<>();
            for (int k = 0; k < values.size(); k++) {
                String value = values.get(k);
                if (vocabulary.indexOf(value) != Vocabulary.OOV_INDEX || !seen.add(value)) {
                    throw inconsistent(field.vocabulary() + " line " + (k + 1) + ": value '" + value
                            + "' is in the vocabulary already");
                }
            }
            added.put(field.name(), values);
        }
        return added;
    }

    private static EmbeddingChange.TableChange checkTable(String key, TableChange delta, TableSpec table,
            Map<String, List<String>> added, DeltaContents contents, EmbeddingState state) {
        String named = key + " ('" + delta.name() + "')";
        if (!delta.name().equals(table.name())) {
            throw inconsistent(key + " is '" + delta.name() + "', the model's table there is '" + table.name()
                    + "': every table of the base, in the manifest's order");
        }
        if (delta.dim() != table.dim()) {
            throw inconsistent(named + " dim is " + delta.dim() + ", the table's is " + table.dim());
        }
        long rowsBefore = state.rows(table.name());
        if (delta.rowsBefore() != rowsBefore) {
            throw inconsistent(named + " rowsBefore is " + delta.rowsBefore() + ", the serving table has " + rowsBefore);
        }
        List<AppendedBlock> blocks = expectedBlocks(table, added, rowsBefore);
        List<AppendedBlock> listed = delta.appended().stream()
                .map(block -> new AppendedBlock(block.field(), block.firstRow(), block.count()))
                .toList();
        if (!listed.equals(blocks)) {
            throw inconsistent(named + " appended is " + describe(delta.appended()) + ", expected " + describeBlocks(blocks)
                    + ": one block per growing field the table covers, in the table's field order, from rowsBefore");
        }
        long appendedRows = blocks.stream().mapToLong(AppendedBlock::count).sum();
        if (delta.rowsAfter() != rowsBefore + appendedRows) {
            throw inconsistent(named + " rowsAfter is " + delta.rowsAfter() + ", but rowsBefore " + rowsBefore + " + "
                    + appendedRows + " appended rows = " + (rowsBefore + appendedRows));
        }
        long[] rows = contents.rows().get(table.name());
        if (rows.length != delta.count()) {
            throw inconsistent(delta.rows() + " holds " + rows.length + " rows, count is " + delta.count());
        }
        checkRows(delta, rows, rowsBefore);
        float[] values = contents.values() == null ? null : contents.values().get(table.name());
        for (int i = 0; values != null && i < values.length; i++) {
            if (!Float.isFinite(values[i])) {
                throw inconsistent(delta.values() + ": row " + rows[i / delta.dim()] + " holds " + values[i]);
            }
        }
        return new EmbeddingChange.TableChange(table.name(), delta.rowsAfter(), blocks, rows, values);
    }

    /** Strictly ascending, inside the table after the delta, and every appended row among them. */
    private static void checkRows(TableChange delta, long[] rows, long rowsBefore) {
        long appendedListed = 0;
        for (int i = 0; i < rows.length; i++) {
            if (rows[i] < 0 || rows[i] >= delta.rowsAfter()) {
                throw inconsistent(delta.rows() + " entry " + i + ": row " + rows[i] + " lies outside the table's "
                        + delta.rowsAfter() + " rows");
            }
            if (i > 0 && rows[i] <= rows[i - 1]) {
                throw inconsistent(delta.rows() + " entry " + i + ": row " + rows[i] + " after " + rows[i - 1]
                        + "; rows must be strictly ascending");
            }
            if (rows[i] >= rowsBefore) {
                appendedListed++;
            }
        }
        if (appendedListed != delta.rowsAfter() - rowsBefore) {
            throw inconsistent(delta.rows() + " lists " + appendedListed + " of the " + (delta.rowsAfter() - rowsBefore)
                    + " appended rows; every appended row must have its values");
        }
    }

    private static List<AppendedBlock> expectedBlocks(TableSpec table, Map<String, List<String>> added, long rowsBefore) {
        List<AppendedBlock> blocks = new ArrayList<>();
        long next = rowsBefore;
        for (TableField field : table.fields()) {
            List<String> values = added.get(field.name());
            if (values != null) {
                blocks.add(new AppendedBlock(field.name(), next, values.size()));
                next += values.size();
            }
        }
        return blocks;
    }

    private static String describe(List<Appended> blocks) {
        return describeBlocks(blocks.stream().map(b -> new AppendedBlock(b.field(), b.firstRow(), b.count())).toList());
    }

    private static String describeBlocks(List<AppendedBlock> blocks) {
        Map<String, String> shown = new LinkedHashMap<>();
        blocks.forEach(b -> shown.put(b.field(), "rows " + b.firstRow() + ".." + (b.firstRow() + b.count() - 1)));
        return shown.isEmpty() ? "none" : shown.toString();
    }

    private static DeltaRefusedException inconsistent(String message) {
        return new DeltaRefusedException(DeltaRefusal.INCONSISTENT, message);
    }

    /** Rows the change writes per table, appended ones included: what an applied attempt reports. */
    public static Map<String, Long> rowsByTable(EmbeddingChange change) {
        Map<String, Long> rows = new LinkedHashMap<>();
        change.tables().forEach(table -> rows.put(table.table(), (long) table.rows().length));
        return rows;
    }
}
