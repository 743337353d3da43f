package dev.stemnet.service.scoring;

import java.util.Arrays;

/**
 * The distinct rows of a table's slots, in the order first seen, and for every slot the position of its row
 * among them: one pass over the slots through an open-addressing table of primitive longs. Sorting the slots
 * and binary-searching each one cost more than the cached fetch itself. Kept per thread and reused, so a
 * request allocates only the exact-length array of distinct rows the embedding store is given.
 */
final class DistinctRows {

    private static final int EMPTY = -1;

    private long[] keys = new long[0];
    private int[] positions = new int[0];
    private long[] rows = new long[0];
    private int[] slotPositions = new int[0];
    private int count;

    /** Indexes {@code slotRows}; what the accessors return is valid until the next call. */
    void index(long[] slotRows) {
        int capacity = Integer.highestOneBit(Math.max(16, slotRows.length * 2 - 1)) << 1;
        if (keys.length < capacity) {
            keys = new long[capacity];
            positions = new int[capacity];
        }
        if (rows.length < slotRows.length) {
            rows = new long[slotRows.length];
            slotPositions = new int[slotRows.length];
        }
        int mask = capacity - 1;
        Arrays.fill(positions, 0, capacity, EMPTY);
        count = 0;
        for (int slot = 0; slot < slotRows.length; slot++) {
            long row = slotRows[slot];
            int bucket = hash(row) & mask;
            while (positions[bucket] != EMPTY && keys[bucket] != row) {
                bucket = (bucket + 1) & mask;
            }
            if (positions[bucket] == EMPTY) {
                keys[bucket] = row;
                positions[bucket] = count;
                rows[count++] = row;
            }
            slotPositions[slot] = positions[bucket];
        }
    }

    /** The distinct rows, first-seen order, as a new array of exactly that length. */
    long[] rows() {
        return Arrays.copyOf(rows, count);
    }

    /** The position in {@link #rows()} of slot {@code slot}'s row. */
    int positionOf(int slot) {
        return slotPositions[slot];
    }

    // Rows are dense small integers (offset + vocabulary index): spread them so that linear probing stays short.
    private static int hash(long row) {
        long h = row * 0x9E3779B97F4A7C15L;
        return (int) (h ^ (h >>> 32));
    }
}
