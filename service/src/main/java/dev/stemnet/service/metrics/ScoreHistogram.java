package dev.stemnet.service.metrics;

import dev.stemnet.service.scoring.CandidateScores;
import io.prometheus.metrics.model.registry.Collector;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.model.snapshots.ClassicHistogramBuckets;
import io.prometheus.metrics.model.snapshots.HistogramSnapshot;
import io.prometheus.metrics.model.snapshots.HistogramSnapshot.HistogramDataPointSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.DoubleAdder;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.IntToDoubleFunction;
import java.util.function.Predicate;

/**
 * A Prometheus histogram of served scores that takes a whole request's scores at once: they are counted into
 * buckets locally, and the shared counters of a series see one addition per bucket that got any, plus one for the
 * sum. A Micrometer distribution summary does its bookkeeping per observation (count, sum, a time-windowed maximum
 * and the bucket, each with its own atomic update and clock reads), 600 times for a request of 200 candidates and
 * three tasks; Micrometer has no way to record many values at once. Its fixed buckets also round every value up to
 * a whole number first ({@code Math.ceil}), which put every score in (0, 1] in the {@code le="1.0"} bucket.
 * <p>
 * The series have the names, labels and {@code le} values of a Micrometer distribution summary with service-level
 * objectives: cumulative buckets at the given bounds and {@code +Inf}, a score counting in every bucket whose bound
 * it does not exceed, and {@code _count} and {@code _sum}; negative and NaN scores are left out, as Micrometer leaves
 * them. There is no {@code _max}. Registered straight with the {@link PrometheusRegistry} that
 * {@code /actuator/prometheus} writes.
 */
public final class ScoreHistogram implements Collector {

    private final String name;
    private final String help;
    private final String[] labelNames;
    private final double[] bounds;
    private final double[] boundsWithInfinity;
    private final Map<List<String>, Series> seriesByLabelValues = new ConcurrentHashMap<>();

    /**
     * @param name       the Prometheus name, e.g. {@code stem_task_score}
     * @param bounds     the finite upper bounds of the buckets, ascending
     * @param labelNames the names of the labels every series has, in the order {@link #series} takes the values
     */
    public ScoreHistogram(String name, String help, double[] bounds, String... labelNames) {
        this.name = name;
        this.help = help;
        this.labelNames = labelNames.clone();
        this.bounds = bounds.clone();
        this.boundsWithInfinity = Arrays.copyOf(bounds, bounds.length + 1);
        boundsWithInfinity[bounds.length] = Double.POSITIVE_INFINITY;
    }

    /** The series of these label values, created at the first call and exported from then on. */
    public Series series(String... labelValues) {
        if (labelValues.length != labelNames.length) {
            throw new IllegalArgumentException("expected values for " + Arrays.toString(labelNames));
        }
        return seriesByLabelValues.computeIfAbsent(List.of(labelValues),
                values -> new Series(Labels.of(labelNames, labelValues)));
    }

    /** Stops exporting the series whose labels match, e.g. those of a model version that was closed. */
    public void removeIf(Predicate<Labels> matches) {
        seriesByLabelValues.values().removeIf(series -> matches.test(series.labels));
    }

    @Override
    public String getPrometheusName() {
        return name;
    }

    @Override
    public HistogramSnapshot collect() {
        HistogramSnapshot.Builder snapshot = HistogramSnapshot.builder().name(name).help(help);
        for (Series series : seriesByLabelValues.values()) {
            snapshot.dataPoint(series.snapshot());
        }
        return snapshot.build();
    }

    /** The counts of one label set; safe to record into from many threads. */
    public final class Series {

        private final Labels labels;
        // Not cumulative: counts[i] holds the scores of (bounds[i - 1], bounds[i]], the last those above every bound.
        private final LongAdder[] counts;
        private final DoubleAdder sum = new DoubleAdder();

        private Series(Labels labels) {
            this.labels = labels;
            this.counts = new LongAdder[boundsWithInfinity.length];
            Arrays.setAll(counts, i -> new LongAdder());
        }

        /** Counts {@code task}'s score of every result; negative scores are left out, as Micrometer leaves them. */
        public void record(List<CandidateScores> results, String task) {
            add(results.size(), i -> results.get(i).scores().get(task), 0);
        }

        /** Counts every value but NaN, negative ones included (differences of scores, say). */
        public void record(double[] values) {
            add(values.length, i -> values[i], Double.NEGATIVE_INFINITY);
        }

        private void add(int count, IntToDoubleFunction valueAt, double lowest) {
            long[] requestCounts = new long[counts.length];
            double requestSum = 0;
            for (int i = 0; i < count; i++) {
                double value = valueAt.applyAsDouble(i);
                if (value >= lowest) {
                    requestCounts[bucketOf(value)]++;
                    requestSum += value;
                }
            }
            for (int i = 0; i < requestCounts.length; i++) {
                if (requestCounts[i] > 0) {
                    counts[i].add(requestCounts[i]);
                }
            }
            sum.add(requestSum);
        }

        private int bucketOf(double score) {
            int found = Arrays.binarySearch(bounds, score);
            // Not found: the insertion point, i.e. the first bound above the score (bounds.length: none, +Inf).
            return found >= 0 ? found : -found - 1;
        }

        private HistogramDataPointSnapshot snapshot() {
            long[] snapshotCounts = new long[counts.length];
            for (int i = 0; i < counts.length; i++) {
                snapshotCounts[i] = counts[i].sum();
            }
            return HistogramDataPointSnapshot.builder()
                    .classicHistogramBuckets(ClassicHistogramBuckets.of(boundsWithInfinity, snapshotCounts))
                    .sum(sum.sum())
                    .labels(labels)
                    .build();
        }
    }
}
