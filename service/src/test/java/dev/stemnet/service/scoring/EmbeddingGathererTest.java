package dev.stemnet.service.scoring;

import static org.assertj.core.api.Assertions.assertThat;

import dev.stemnet.service.bundle.Manifest.TableField;
import dev.stemnet.service.bundle.Manifest.TableSpec;
import dev.stemnet.service.embedding.EmbeddingStore;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class EmbeddingGathererTest {

    private static final int DIM = 2;
    private static final TableSpec TABLE =
            new TableSpec("shared", "tables/shared.f32", 100, DIM, List.of(new TableField("f", 0)));

    @Test
    void fetchesEachDistinctRowOnceAndFillsEverySlot() {
        List<long[]> calls = new ArrayList<>();
        EmbeddingStore store = (table, rows, destination) -> {
            calls.add(rows.clone());
            for (int i = 0; i < rows.length; i++) {
                destination[i * DIM] = rows[i];
                destination[i * DIM + 1] = rows[i] + 0.5f;
            }
        };
        // Two candidates, three fields: the user row 5 appears in both, item row 7 in both.
        long[] slotRows = {5, 7, 9, 5, 7, 11};

        FloatBuffer input = new EmbeddingGatherer(store).gather(TABLE, slotRows, new InputBuffers());

        assertThat(calls).hasSize(1);
        assertThat(calls.get(0)).containsExactlyInAnyOrder(5, 7, 9, 11);
        assertThat(input.isDirect()).isTrue();
        assertThat(input.order()).isEqualTo(ByteOrder.nativeOrder());
        assertThat(input.position()).isZero();
        assertThat(input.limit()).isEqualTo(slotRows.length * DIM);
        float[] values = new float[input.limit()];
        input.get(0, values);
        assertThat(values).containsExactly(5, 5.5f, 7, 7.5f, 9, 9.5f, 5, 5.5f, 7, 7.5f, 11, 11.5f);
    }

    @Test
    void reusesTheThreadsBufferForASmallerRequest() {
        InputBuffers buffers = new InputBuffers();
        FloatBuffer large = buffers.input("shared", 64);
        FloatBuffer small = buffers.input("shared", 8);

        assertThat(small).isSameAs(large);
        assertThat(small.limit()).isEqualTo(8);
    }

    @Test
    void distinctRowsInFirstSeenOrderWithEachSlotsPosition() {
        DistinctRows distinct = new DistinctRows();
        long[] slotRows = {9, 5, 7, 5, 9, 11, 5};

        distinct.index(slotRows);

        assertThat(distinct.rows()).containsExactly(9, 5, 7, 11);
        for (int slot = 0; slot < slotRows.length; slot++) {
            assertThat(distinct.rows()[distinct.positionOf(slot)]).as("slot %d", slot).isEqualTo(slotRows[slot]);
        }
    }

    @Test
    void distinctRowsForgetTheLastRequestAndGrowForALargerOne() {
        DistinctRows distinct = new DistinctRows();
        distinct.index(new long[] {1, 2, 3});
        distinct.index(new long[0]);
        assertThat(distinct.rows()).isEmpty();

        // Many rows that collide in a small table, and negative ones: every slot still finds its own row.
        long[] slotRows = new long[5_000];
        for (int slot = 0; slot < slotRows.length; slot++) {
            slotRows[slot] = (slot % 1_000) * 1024L - 7;
        }
        distinct.index(slotRows);

        assertThat(distinct.rows()).hasSize(1_000).doesNotHaveDuplicates();
        for (int slot = 0; slot < slotRows.length; slot++) {
            assertThat(distinct.rows()[distinct.positionOf(slot)]).isEqualTo(slotRows[slot]);
        }
    }
}
