package dev.stemnet.service.metrics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.stemnet.service.scoring.CandidateScores;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class ScoreHistogramTest {

    private static final double[] BUCKETS = ModelMeters.scoreBuckets();

    /**
     * Random requests of float scores over many magnitudes, plus every bucket bound exactly and one float step either
     * side of it, 0, -0, 1, the smallest subnormal and the values Micrometer leaves out (negative, NaN): every
     * cumulative bucket counts the scores that do not exceed its bound, {@code _count} all of them, {@code _sum}
     * their sum. The series have the names, labels and {@code le} values Micrometer's distribution summary had.
     */
    @Test
    void countsEachScoreInEveryBucketWhoseBoundItDoesNotExceed() {
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        ScoreHistogram histogram = new ScoreHistogram("stem_task_score", "scores", BUCKETS, "model", "version", "task");
        registry.getPrometheusRegistry().register(histogram);
        ScoreHistogram.Series series = histogram.series("m", "v1", "pay");

        List<Double> edges = new ArrayList<>(List.of(0.0, -0.0, 1.0, (double) Float.MIN_VALUE, (double) Float.MIN_NORMAL,
                -0.25, Double.NaN, 2.0));
        for (double bound : BUCKETS) {
            edges.addAll(List.of(bound, (double) (float) bound, (double) Math.nextUp((float) bound),
                    (double) Math.nextDown((float) bound)));
        }
        SplittableRandom random = new SplittableRandom(5);
        List<List<Double>> requests = new ArrayList<>(List.of(edges));
        for (int r = 0; r < 200; r++) {
            List<Double> scores = new ArrayList<>();
            for (int c = 1 + random.nextInt(300); c > 0; c--) {
                scores.add((double) (random.nextBoolean() ? random.nextFloat()
                        : (float) Math.pow(10, -6 * random.nextDouble())));
            }
            requests.add(scores);
        }
        for (List<Double> scores : requests) {
            series.record(scores.stream().map(score -> new CandidateScores("a", Map.of("pay", score))).toList(), "pay");
        }

        List<Double> counted = requests.stream().flatMap(List::stream).filter(score -> score >= 0).toList();
        String scrape = registry.scrape();
        List<String> buckets = samples(scrape, "stem_task_score_bucket{");
        assertThat(buckets).hasSize(BUCKETS.length + 1);
        for (int i = 0; i < BUCKETS.length; i++) {
            double bound = BUCKETS[i];
            assertThat(value(buckets.get(i))).as(buckets.get(i))
                    .isEqualTo(counted.stream().filter(score -> score <= bound).count());
        }
        assertThat(value(buckets.get(BUCKETS.length))).isEqualTo(counted.size());
        assertThat(value(samples(scrape, "stem_task_score_count{").get(0))).isEqualTo(counted.size());
        assertThat(value(samples(scrape, "stem_task_score_sum{").get(0)))
                .isCloseTo(counted.stream().mapToDouble(Double::doubleValue).sum(), within(1e-9));
        assertThat(labels(buckets)).isEqualTo(labels(samples(micrometerSummaryScrape(), "stem_task_score_bucket{")));
    }

    /** A series of stem_task_score as ModelMeters registered it with Micrometer before. */
    private static String micrometerSummaryScrape() {
        PrometheusMeterRegistry micrometer = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        DistributionSummary.builder("stem.task.score")
                .tags("model", "m", "version", "v1", "task", "pay")
                .serviceLevelObjectives(BUCKETS)
                .register(micrometer)
                .record(0.5);
        return micrometer.scrape();
    }

    private static List<String> labels(List<String> samples) {
        return samples.stream().map(sample -> sample.substring(0, sample.lastIndexOf(' '))).toList();
    }

    @Test
    void removesTheSeriesThatMatchAndKeepsTheOthers() {
        ScoreHistogram histogram = new ScoreHistogram("stem_task_score", "scores", BUCKETS, "model", "version", "task");
        List<CandidateScores> results = List.of(new CandidateScores("a", Map.of("pay", 0.5)));
        histogram.series("m", "v1", "pay").record(results, "pay");
        histogram.series("m", "v2", "pay").record(results, "pay");

        histogram.removeIf(labels -> labels.get("version").equals("v1"));

        assertThat(histogram.collect().getDataPoints()).singleElement()
                .satisfies(series -> assertThat(series.getLabels().get("version")).isEqualTo("v2"));
    }

    private static List<String> samples(String scrape, String prefix) {
        return scrape.lines().filter(line -> line.startsWith(prefix)).toList();
    }

    private static double value(String sample) {
        return Double.parseDouble(sample.substring(sample.lastIndexOf(' ') + 1));
    }
}
