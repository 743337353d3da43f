package dev.stemnet.service.embedding;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Delta rows in memory above a store: overlaid rows from the overlay, the rest in one call to the store. */
class OverlaidEmbeddingStoreTest {

    private static final int DIM = 2;
    private static final long STORE_ROWS = 200;

    /** Row r of the store holds {r, r + 0.5}; every call's rows are recorded. */
    private final List<long[]> calls = new ArrayList<>();
    private final EmbeddingStore store = (table, rows, destination) -> {
        calls.add(rows.clone());
        for (int i = 0; i < rows.length; i++) {
            if (rows[i] >= STORE_ROWS) {
                throw new IndexOutOfBoundsException("row " + rows[i]);
            }
            destination[i * DIM] = rows[i];
            destination[i * DIM + 1] = rows[i] + 0.5f;
        }
    };

    @Test
    void overlaidRowsComeFromTheOverlayAndTheOthersFromTheStoreInOneCall() {
        RowOverlay overlay = RowOverlay.empty(DIM, STORE_ROWS)
                .merge(new long[] {3, 130, 200, 201}, new float[] {-3, -3, -130, -130, -200, -200, -201, -201});
        var overlaid = new OverlaidEmbeddingStore(store, Map.of("t", overlay), Map.of("t", DIM));
        float[] destination = new float[5 * DIM];

        overlaid.fetchRows("t", new long[] {201, 3, 4, 130, 64}, destination);

        assertThat(destination).containsExactly(-201, -201, -3, -3, 4, 4.5f, -130, -130, 64, 64.5f);
        assertThat(calls).hasSize(1);
        assertThat(calls.get(0)).containsExactly(4, 64);
    }

    @Test
    void withoutOverlaidRowsTheRequestGoesToTheStoreAsItIs() {
        RowOverlay overlay = RowOverlay.empty(DIM, STORE_ROWS).merge(new long[] {5}, new float[] {-5, -5});
        var overlaid = new OverlaidEmbeddingStore(store, Map.of("t", overlay), Map.of("t", DIM));
        long[] rows = {4, 6, 69};

        overlaid.fetchRows("t", rows, new float[rows.length * DIM]);
        overlaid.fetchRows("other", rows, new float[rows.length * DIM]);

        assertThat(calls).hasSize(2).allSatisfy(call -> assertThat(call).containsExactly(4, 6, 69));
    }

    @Test
    void aLaterMergeReplacesRowsItWritesAgainAndKeepsTheOthers() {
        RowOverlay first = RowOverlay.empty(DIM, STORE_ROWS).merge(new long[] {7, 200}, new float[] {1, 1, 2, 2});
        RowOverlay second = first.merge(new long[] {7, 201}, new float[] {3, 3, 4, 4});
        var overlaid = new OverlaidEmbeddingStore(store, Map.of("t", second), Map.of("t", DIM));
        float[] destination = new float[3 * DIM];

        overlaid.fetchRows("t", new long[] {7, 200, 201}, destination);

        assertThat(destination).containsExactly(3, 3, 2, 2, 4, 4);
        assertThat(second.size()).isEqualTo(3);
        assertThat(first.size()).isEqualTo(2);
    }

    @Test
    void aRowPastTheTableIsOutOfBounds() {
        RowOverlay overlay = RowOverlay.empty(DIM, STORE_ROWS).merge(new long[] {200}, new float[] {1, 1});
        var overlaid = new OverlaidEmbeddingStore(store, Map.of("t", overlay), Map.of("t", DIM));

        assertThatThrownBy(() -> overlaid.fetchRows("t", new long[] {201}, new float[DIM]))
                .isInstanceOf(IndexOutOfBoundsException.class);
    }
}
