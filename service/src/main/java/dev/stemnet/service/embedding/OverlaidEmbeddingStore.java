package dev.stemnet.service.embedding;

import java.util.Map;

/**
 * A store's rows with the rows of applied deltas laid over them ({@link RowOverlay}, one per table that has any).
 * Rows the overlays do not cover still come from the store underneath, in one call per table and request as before.
 * It owns nothing: closing it leaves the store underneath open, as that belongs to the model version.
 */
public final class OverlaidEmbeddingStore implements EmbeddingStore {

    private final EmbeddingStore underlying;
    private final Map<String, RowOverlay> overlays;
    private final Map<String, Integer> dims;

    /** @param dims the row width of every table that has an overlay */
    public OverlaidEmbeddingStore(EmbeddingStore underlying, Map<String, RowOverlay> overlays, Map<String, Integer> dims) {
        this.underlying = underlying;
        this.overlays = Map.copyOf(overlays);
        this.dims = Map.copyOf(dims);
    }

    public EmbeddingStore underlying() {
        return underlying;
    }

    @Override
    public void fetchRows(String table, long[] rows, float[] destination) {
        RowOverlay overlay = overlays.get(table);
        int covered = 0;
        for (int i = 0; overlay != null && i < rows.length; i++) {
            if (overlay.covers(rows[i])) {
                covered++;
            }
        }
        if (covered == 0) {
            underlying.fetchRows(table, rows, destination);
            return;
        }
        int dim = dims.get(table);
        long[] below = new long[rows.length - covered];
        int[] belowPositions = new int[below.length];
        int next = 0;
        for (int i = 0; i < rows.length; i++) {
            if (overlay.covers(rows[i])) {
                overlay.copyRow(table, rows[i], destination, i * dim);
            } else {
                belowPositions[next] = i;
                below[next++] = rows[i];
            }
        }
        if (below.length > 0) {
            float[] fetched = new float[below.length * dim];
            underlying.fetchRows(table, below, fetched);
            for (int k = 0; k < below.length; k++) {
                System.arraycopy(fetched, k * dim, destination, belowPositions[k] * dim, dim);
            }
        }
    }

    /** The store underneath belongs to the model version, which closes it. */
    @Override
    public void close() {}
}
