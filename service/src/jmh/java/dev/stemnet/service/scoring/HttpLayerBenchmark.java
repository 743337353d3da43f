package dev.stemnet.service.scoring;

import dev.stemnet.service.api.ScoreResponse;
import dev.stemnet.service.metrics.ModelMeters;
import dev.stemnet.service.metrics.ScoreHistogram;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import dev.stemnet.service.scoring.ScoreRequest.Candidate;
import jakarta.validation.Valid;
import jakarta.validation.Validation;
import jakarta.validation.Validator;
import jakarta.validation.constraints.NotBlank;
import jakarta.validation.constraints.NotEmpty;
import jakarta.validation.constraints.NotNull;
import jakarta.validation.constraints.Size;
import java.io.OutputStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import tools.jackson.core.StreamWriteFeature;
import tools.jackson.databind.json.JsonMapper;

/**
 * The HTTP layer's own work for the 200-candidate request of {@link BenchFixture}, without the servlet container:
 * reading the JSON body, validating it, building and writing the response. Each piece in the way the service did
 * it before (maps of boxed doubles written with {@code Double.toString}; {@code @Valid} cascading into every
 * candidate) and the way it does now. Run with {@code make bench JMH_ARGS='HttpLayerBenchmark -prof gc'}.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"-Xms1g", "-Xmx1g"})
public class HttpLayerBenchmark {

    /** The request as it was declared before: {@code @Valid} on every candidate. */
    public record CascadingRequest(String requestId, String model, @NotBlank String userId, Map<String, String> userFeatures,
            @NotEmpty List<@NotNull @Valid CascadingCandidate> candidates,
            @Size(min = 1) List<@NotBlank String> tasks) {}

    public record CascadingCandidate(@NotBlank String itemId, Map<String, String> features) {}

    private BenchFixture fixture;
    private final DistributionSummary[] scoreSummaries = new DistributionSummary[3];
    private final ScoreHistogram.Series[] scoreSeries = new ScoreHistogram.Series[3];
    private List<CandidateScores> scored;
    private final JsonMapper defaultWriter = JsonMapper.builder().build();
    // As the service's JsonConfiguration sets it up.
    private final JsonMapper fastWriter = JsonMapper.builder().enable(StreamWriteFeature.USE_FAST_DOUBLE_WRITER).build();
    private final Validator validator = Validation.buildDefaultValidatorFactory().getValidator();
    private byte[] requestJson;
    private CascadingRequest cascadingRequest;
    private float[][] probabilities;
    private String[] tasks;
    private int[] columns;

    @Setup(Level.Trial)
    public void setUp() {
        fixture = new BenchFixture(Integer.getInteger("stem.bench.candidates", 200), 100_000);
        requestJson = fastWriter.writeValueAsBytes(fixture.request);
        List<CascadingCandidate> candidates = new ArrayList<>();
        for (Candidate candidate : fixture.request.candidates()) {
            candidates.add(new CascadingCandidate(candidate.itemId(), candidate.features()));
        }
        cascadingRequest = new CascadingRequest(null, null, fixture.request.userId(), fixture.request.userFeatures(),
                candidates, null);
        scored = fixture.scorer.score(fixture.request, Deadline.none(), StageTimings.NONE).results();
        List<String> taskNames = fixture.bundle.manifest().tasks();
        tasks = taskNames.toArray(String[]::new);
        columns = new int[tasks.length];
        probabilities = new float[scored.size()][tasks.length];
        for (int b = 0; b < scored.size(); b++) {
            for (int t = 0; t < tasks.length; t++) {
                columns[t] = t;
                probabilities[b][t] = scored.get(b).scores().get(tasks[t]).floatValue();
            }
        }
        registerScoreSummaries();
    }

    /** As ModelMeters registers stem.task.score, on the registry the service publishes. */
    private void registerScoreSummaries() {
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        for (int t = 0; t < scoreSummaries.length; t++) {
            scoreSummaries[t] = DistributionSummary.builder("stem.task.score").tag("task", tasks[t])
                    .serviceLevelObjectives(ModelMeters.scoreBuckets()).register(registry);
        }
        ScoreHistogram histogram = new ScoreHistogram("stem_task_score", "", ModelMeters.scoreBuckets(), "task");
        for (int t = 0; t < scoreSeries.length; t++) {
            scoreSeries[t] = histogram.series(tasks[t]);
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        fixture.close();
    }

    @Benchmark
    public ScoreRequest readRequest() {
        return fastWriter.readValue(requestJson, ScoreRequest.class);
    }

    @Benchmark
    public Set<?> validateCascading() {
        return validator.validate(cascadingRequest);
    }

    @Benchmark
    public Set<?> validate() {
        return validator.validate(fixture.request);
    }

    /** The 600 observations of stem.task.score a 200-candidate request made with Micrometer (ModelMeters, before). */
    @Benchmark
    public void recordScoreMetrics() {
        for (float[] row : probabilities) {
            for (int t = 0; t < scoreSummaries.length; t++) {
                scoreSummaries[t].record(row[t]);
            }
        }
    }

    /** ... and as ModelMeters records them now: counted per request, one addition per bucket and task. */
    @Benchmark
    public void recordScoreHistograms() {
        for (int t = 0; t < scoreSeries.length; t++) {
            scoreSeries[t].record(scored, tasks[t]);
        }
    }

    /** Results as the scorer built them before (a map and boxed doubles per candidate), written with Double.toString. */
    @Benchmark
    public void writeResponseMaps() {
        List<CandidateScores> results = new ArrayList<>(probabilities.length);
        for (int b = 0; b < probabilities.length; b++) {
            Map<String, Double> scores = new LinkedHashMap<>();
            for (int t = 0; t < tasks.length; t++) {
                scores.put(tasks[t], (double) probabilities[b][t]);
            }
            results.add(new CandidateScores(fixture.request.candidates().get(b).itemId(), scores));
        }
        // Straight to a stream, as Spring writes the servlet response: no byte[] of the whole body.
        defaultWriter.writeValue(OutputStream.nullOutputStream(), response(results));
    }

    /** ... and as now: views over the network's rows, written by TaskScores' serializer with Schubfach. */
    @Benchmark
    public void writeResponse() {
        List<CandidateScores> results = new ArrayList<>(probabilities.length);
        for (int b = 0; b < probabilities.length; b++) {
            results.add(new CandidateScores(fixture.request.candidates().get(b).itemId(),
                    new TaskScores(tasks, columns, probabilities[b])));
        }
        fastWriter.writeValue(OutputStream.nullOutputStream(), response(results));
    }

    private static ScoreResponse response(List<CandidateScores> results) {
        return new ScoreResponse("bench", new ScoreResponse.ModelReference("stem-net", "v1"), results, null);
    }
}
