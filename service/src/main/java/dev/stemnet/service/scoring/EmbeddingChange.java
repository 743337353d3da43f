package dev.stemnet.service.scoring;

import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * What one checked delta changes in a model's embedding state: values added to fields' vocabularies, and per table
 * the rows it appends and the rows it writes. Made only from a delta that passed every check against the state it
 * applies to (sizes before, appended blocks, ascending rows), which {@link EmbeddingState#with} relies on.
 *
 * @param addedValues by field: the values that get the field's next indices, in order
 * @param tables      one per table of the model, in the manifest's order
 */
public record EmbeddingChange(long sequence, Instant createdAt, Map<String, List<String>> addedValues,
        List<TableChange> tables) {

    public EmbeddingChange {
        addedValues = Map.copyOf(addedValues);
        tables = List.copyOf(tables);
    }

    /**
     * @param rowsAfter the table's rows once the delta is applied
     * @param appended  one block per growing field the table covers, in the table's field order
     * @param rows      every row the delta writes, strictly ascending: appended ones and changed existing ones
     * @param values    their values, {@code rows.length * dim} floats; null when the store underneath already holds
     *                  them (Redis, written by the loader), so that nothing is held in memory
     */
    public record TableChange(String table, long rowsAfter, List<AppendedBlock> appended, long[] rows, float[] values) {

        public TableChange {
            appended = List.copyOf(appended);
        }
    }

    /** The value of index {@code vocabSizeBefore + k} of {@code field} is row {@code firstRow + k} of the table. */
    public record AppendedBlock(String field, long firstRow, long count) {}
}
