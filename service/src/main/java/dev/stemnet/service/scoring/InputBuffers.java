package dev.stemnet.service.scoring;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.HashMap;
import java.util.Map;

/**
 * One thread's scratch space, kept between requests: the network's input buffers, one per table, an array the
 * embedding store fills and the table that de-duplicates slot rows. All grow to the largest request seen and
 * are never shrunk.
 */
final class InputBuffers {

    private final Map<String, FloatBuffer> inputByTable = new HashMap<>();
    private float[] fetchedRows = new float[0];
    private final DistinctRows distinctRows = new DistinctRows();

    /** A direct, native-order buffer for {@code floats} values, positioned at 0 with its limit at {@code floats}. */
    FloatBuffer input(String table, int floats) {
        FloatBuffer buffer = inputByTable.get(table);
        if (buffer == null || buffer.capacity() < floats) {
            buffer = ByteBuffer.allocateDirect(grownCapacity(buffer == null ? 0 : buffer.capacity(), floats) * Float.BYTES)
                    .order(ByteOrder.nativeOrder())
                    .asFloatBuffer();
            inputByTable.put(table, buffer);
        }
        buffer.clear().limit(floats);
        return buffer;
    }

    /** An array of at least {@code floats} values; its contents are garbage from the last use. */
    float[] fetchedRows(int floats) {
        if (fetchedRows.length < floats) {
            fetchedRows = new float[grownCapacity(fetchedRows.length, floats)];
        }
        return fetchedRows;
    }

    DistinctRows distinctRows() {
        return distinctRows;
    }

    // Doubling keeps the number of reallocations logarithmic while request sizes creep upwards.
    private static int grownCapacity(int current, int needed) {
        return Math.max(needed, (int) Math.min(Integer.MAX_VALUE / Float.BYTES, 2L * current));
    }
}
