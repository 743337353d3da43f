package dev.stemnet.service.experiment;

import static org.assertj.core.api.Assertions.assertThat;

import dev.stemnet.service.experiment.ExperimentConfig.Layer;
import java.util.List;
import java.util.Random;
import java.util.UUID;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The split of many random units matches the configured shares, and layers split independently: Pearson
 * chi-square statistics against their critical values at p = 0.001. The ids come from a fixed seed, so the
 * test is deterministic; a biased or correlated hash fails it by orders of magnitude.
 */
class AssignmentBalanceTest {

    private static final int UNITS = 100_000;
    /** Upper 0.001 quantiles of the chi-square distribution. */
    private static final double CRITICAL_DF1 = 10.828;
    private static final double CRITICAL_DF2 = 13.816;

    private static final ExperimentConfig CONFIG = ExperimentConfigParser.parse("""
            layers:
              - name: model
                salt: stem-vs-mmoe-1
                buckets: 1000
                arms:
                  - {name: control, model: mmoe, percent: 10}
                  - {name: treatment, model: stem-net, percent: 30}
                  - {name: holdout, model: stem-net, percent: 60}
              - name: creative
                salt: creative-2
                buckets: 1000
                arms:
                  - {name: a, ranges: "0-499"}
                  - {name: b, ranges: "500-999"}
            """);

    private static final List<String> UNIT_IDS = randomUserIds();

    @Test
    void splitsUnitsInTheConfiguredShares() {
        long[] model = armCounts(CONFIG.layer("model").orElseThrow());
        long[] creative = armCounts(CONFIG.layer("creative").orElseThrow());

        assertThat(goodnessOfFit(model, new double[] {0.1, 0.3, 0.6})).isLessThan(CRITICAL_DF2);
        assertThat(goodnessOfFit(creative, new double[] {0.5, 0.5})).isLessThan(CRITICAL_DF1);
    }

    @Test
    void splitsLayersIndependently() {
        assertThat(independence(CONFIG, "model", "creative")).isLessThan(CRITICAL_DF2);
    }

    /** The statistic can fail: two layers with one salt are as dependent as can be (why salts must differ). */
    @Test
    void detectsLayersThatShareASalt() {
        Layer model = CONFIG.layer("model").orElseThrow();
        Layer creative = CONFIG.layer("creative").orElseThrow();
        Layer sameSalt = new Layer(creative.name(), model.salt(), creative.buckets(), creative.arms(), creative.armByBucket());
        ExperimentConfig correlated = new ExperimentConfig("correlated", 0, List.of(model, sameSalt), List.of());

        assertThat(independence(correlated, "model", "creative")).isGreaterThan(1000 * CRITICAL_DF2);
    }

    @Test
    void movesUnitsToOtherBucketsUnderAnotherSeed() {
        Layer model = CONFIG.layer("model").orElseThrow();
        ExperimentConfig reseeded = new ExperimentConfig("reseeded", 1, CONFIG.layers(), List.of());

        assertThat(UNIT_IDS.subList(0, 1000).stream().filter(id -> CONFIG.bucket(model, id) == reseeded.bucket(model, id)))
                .hasSizeLessThan(10);
    }

    private static long[] armCounts(Layer layer) {
        long[] counts = new long[layer.arms().size()];
        for (String id : UNIT_IDS) {
            counts[layer.arms().indexOf(layer.armOf(CONFIG.bucket(layer, id)))]++;
        }
        return counts;
    }

    private static double goodnessOfFit(long[] observed, double[] shares) {
        double statistic = 0;
        for (int i = 0; i < observed.length; i++) {
            double expected = UNITS * shares[i];
            statistic += Math.pow(observed[i] - expected, 2) / expected;
        }
        return statistic;
    }

    /** Pearson's statistic on the contingency table of the two layers' arms. */
    private static double independence(ExperimentConfig config, String rowLayer, String columnLayer) {
        Layer rows = config.layer(rowLayer).orElseThrow();
        Layer columns = config.layer(columnLayer).orElseThrow();
        long[][] table = new long[rows.arms().size()][columns.arms().size()];
        for (String id : UNIT_IDS) {
            int row = rows.arms().indexOf(rows.armOf(config.bucket(rows, id)));
            int column = columns.arms().indexOf(columns.armOf(config.bucket(columns, id)));
            table[row][column]++;
        }
        long[] rowTotals = new long[table.length];
        long[] columnTotals = new long[table[0].length];
        for (int r = 0; r < table.length; r++) {
            for (int c = 0; c < table[r].length; c++) {
                rowTotals[r] += table[r][c];
                columnTotals[c] += table[r][c];
            }
        }
        double statistic = 0;
        for (int r = 0; r < table.length; r++) {
            for (int c = 0; c < table[r].length; c++) {
                double expected = (double) rowTotals[r] * columnTotals[c] / UNITS;
                statistic += Math.pow(table[r][c] - expected, 2) / expected;
            }
        }
        return statistic;
    }

    private static List<String> randomUserIds() {
        Random random = new Random(20261125L);
        return Stream.generate(() -> new UUID(random.nextLong(), random.nextLong()).toString())
                .limit(UNITS).toList();
    }
}
