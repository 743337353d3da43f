package dev.stemnet.service.embedding;

import java.util.Arrays;

/**
 * One table's rows written by deltas, held in memory above the rows of the store underneath: appended rows (at or
 * past {@link #underlyingRows()}) and existing rows whose values changed. Immutable; a later delta merges its rows
 * into a new overlay ({@link #merge}), a row it writes again replacing the older value.
 *
 * <p>Whether a row of the underlying store is overlaid is one bit test, not a search: the hot path of a model with
 * deltas pays that per fetched row, and a model without deltas has no overlay at all.
 */
public final class RowOverlay {

    private final int dim;
    private final long underlyingRows;
    /** Strictly ascending. */
    private final long[] rows;
    /** Row {@code rows[i]} at floats {@code [i * dim, (i + 1) * dim)}. */
    private final float[] values;
    /** Bit {@code r} set: underlying row {@code r} is overlaid. Only as long as the highest such row needs. */
    private final long[] overlaidBits;

    private RowOverlay(int dim, long underlyingRows, long[] rows, float[] values) {
        this.dim = dim;
        this.underlyingRows = underlyingRows;
        this.rows = rows;
        this.values = values;
        int below = Arrays.binarySearch(rows, underlyingRows);
        below = below >= 0 ? below : -below - 1;
        this.overlaidBits = new long[below == 0 ? 0 : Math.toIntExact((rows[below - 1] >>> 6) + 1)];
        for (int i = 0; i < below; i++) {
            overlaidBits[(int) (rows[i] >>> 6)] |= 1L << rows[i];
        }
    }

    /** @param underlyingRows how many rows the store underneath holds; rows from there on exist only here */
    public static RowOverlay empty(int dim, long underlyingRows) {
        return new RowOverlay(dim, underlyingRows, new long[0], new float[0]);
    }

    /**
     * @param newRows   strictly ascending
     * @param newValues {@code newRows.length * dim} floats, row after row
     * @return this overlay with {@code newRows} written over it
     */
    public RowOverlay merge(long[] newRows, float[] newValues) {
        long[] mergedRows = new long[rows.length + newRows.length];
        float[] mergedValues = new float[(rows.length + newRows.length) * dim];
        int i = 0;
        int j = 0;
        int out = 0;
        while (i < rows.length || j < newRows.length) {
            boolean takeNew = i == rows.length || (j < newRows.length && newRows[j] <= rows[i]);
            if (takeNew) {
                if (i < rows.length && newRows[j] == rows[i]) {
                    i++;
                }
                mergedRows[out] = newRows[j];
                System.arraycopy(newValues, j * dim, mergedValues, out * dim, dim);
                j++;
            } else {
                mergedRows[out] = rows[i];
                System.arraycopy(values, i * dim, mergedValues, out * dim, dim);
                i++;
            }
            out++;
        }
        return new RowOverlay(dim, underlyingRows, Arrays.copyOf(mergedRows, out),
                Arrays.copyOf(mergedValues, out * dim));
    }

    public long underlyingRows() {
        return underlyingRows;
    }

    /** Rows held here. */
    public int size() {
        return rows.length;
    }

    /** Whether {@code row} must be read here rather than from the store underneath. */
    boolean covers(long row) {
        if (row >= underlyingRows) {
            return true;
        }
        int word = (int) (row >>> 6);
        return row >= 0 && word < overlaidBits.length && (overlaidBits[word] & (1L << row)) != 0;
    }

    /**
     * Copies {@code row} into {@code destination} at {@code offset}.
     *
     * @throws IndexOutOfBoundsException when the overlay does not hold it
     */
    void copyRow(String table, long row, float[] destination, int offset) {
        int position = Arrays.binarySearch(rows, row);
        if (position < 0) {
            throw new IndexOutOfBoundsException("row " + row + " outside table '" + table + "'");
        }
        System.arraycopy(values, position * dim, destination, offset, dim);
    }
}
