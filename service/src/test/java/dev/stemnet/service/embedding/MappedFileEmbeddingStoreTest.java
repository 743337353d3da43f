package dev.stemnet.service.embedding;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.stemnet.service.bundle.Manifest.TableField;
import dev.stemnet.service.bundle.Manifest.TableSpec;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MappedFileEmbeddingStoreTest {

    private static final int ROWS = 10;
    private static final int DIM = 3;
    private static final TableSpec TABLE =
            new TableSpec("task:pay", "tables/task_pay.f32", ROWS, DIM, List.of(new TableField("f", 0)));

    @TempDir
    Path temp;

    private Path file;

    /** A table whose every float says where it is: row * 100 + column. */
    @BeforeEach
    void writeTable() throws IOException {
        ByteBuffer bytes = ByteBuffer.allocate(ROWS * DIM * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
        for (int row = 0; row < ROWS; row++) {
            for (int column = 0; column < DIM; column++) {
                bytes.putFloat(row * 100 + column + 0.5f);
            }
        }
        file = temp.resolve("task_pay.f32");
        Files.write(file, bytes.array());
    }

    @Test
    void copiesTheRequestedRowsInRequestOrder() {
        var store = new MappedFileEmbeddingStore(List.of(TABLE), table -> file);
        float[] destination = new float[3 * DIM];

        store.fetchRows("task:pay", new long[] {7, 0, 9}, destination);

        assertThat(destination).containsExactly(700.5f, 701.5f, 702.5f, 0.5f, 1.5f, 2.5f, 900.5f, 901.5f, 902.5f);
    }

    @Test
    void readsRowsAcrossChunksWhenATableNeedsSeveralMappings() {
        long chunkOfThreeRowsAndABit = 3L * DIM * Float.BYTES + 5;
        var store = new MappedFileEmbeddingStore(List.of(TABLE), table -> file, chunkOfThreeRowsAndABit);
        float[] destination = new float[ROWS * DIM];

        store.fetchRows("task:pay", new long[] {0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, destination);

        for (int row = 0; row < ROWS; row++) {
            for (int column = 0; column < DIM; column++) {
                assertThat(destination[row * DIM + column]).isEqualTo(row * 100 + column + 0.5f);
            }
        }
    }

    @Test
    void refusesRowsOutsideTheTableAndUnknownTables() {
        var store = new MappedFileEmbeddingStore(List.of(TABLE), table -> file);
        float[] destination = new float[DIM];

        assertThatThrownBy(() -> store.fetchRows("task:pay", new long[] {ROWS}, destination))
                .isInstanceOf(IndexOutOfBoundsException.class)
                .hasMessageContaining("row 10");
        assertThatThrownBy(() -> store.fetchRows("shared", new long[] {0}, destination))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("'shared'");
    }
}
