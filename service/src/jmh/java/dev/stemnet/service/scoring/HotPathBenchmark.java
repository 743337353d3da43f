package dev.stemnet.service.scoring;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import dev.stemnet.service.bundle.Manifest.TableSpec;
import dev.stemnet.service.embedding.CacheSettings;
import dev.stemnet.service.embedding.CachingEmbeddingStore;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.FloatBuffer;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.LongStream;
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
import org.openjdk.jmh.infra.Blackhole;

/**
 * The stages of scoring one 200-candidate request with the service's own classes, single-threaded:
 * encode (values to rows), fetch (distinct rows from the mapped files, or from a cache in front of them, warm or
 * missing), gather (fetch plus copying into the reused direct input buffers: the whole tensor building), tensor
 * (wrapping the buffers as OnnxTensors), run (the ONNX session) and score (all of it, as one request).
 * Run with {@code make bench} (docs/performance.md).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"-Xms1g", "-Xmx1g"})
public class HotPathBenchmark {

    private BenchFixture fixture;
    private CachingEmbeddingStore missEveryTime;
    private List<TableSpec> tables;
    private long[][] rowsByTable;
    private long[][] distinctRowsByTable;
    private float[] destination;
    private InputBuffers buffers;
    private EmbeddingGatherer hitGatherer;
    private EmbeddingGatherer mappedGatherer;
    private Map<String, FloatBuffer> inputs;
    private int batch;
    private final DistinctRows distinctRows = new DistinctRows();

    @Setup(Level.Trial)
    public void setUp() {
        fixture = new BenchFixture(Integer.getInteger("stem.bench.candidates", 200), 100_000);
        // Caffeine with room for nothing: every row is a miss, loaded from the mapped files and then dropped.
        missEveryTime = new CachingEmbeddingStore(fixture.mapped, fixture.bundle.manifest().tables(),
                new CacheSettings(0, Map.of()), new SimpleMeterRegistry(), Tags.empty());
        tables = fixture.bundle.manifest().tables();
        batch = fixture.request.candidates().size();
        rowsByTable = fixture.encode();
        distinctRowsByTable = new long[tables.size()][];
        int maxFloats = 0;
        for (int t = 0; t < tables.size(); t++) {
            distinctRowsByTable[t] = LongStream.of(rowsByTable[t]).distinct().sorted().toArray();
            maxFloats = Math.max(maxFloats, distinctRowsByTable[t].length * tables.get(t).dim());
        }
        destination = new float[maxFloats];
        buffers = new InputBuffers();
        hitGatherer = new EmbeddingGatherer(fixture.cached);
        mappedGatherer = new EmbeddingGatherer(fixture.mapped);
        inputs = gatherAll(hitGatherer);
        // Twice, so the cached store holds every row of the request: later fetches are all hits.
        inputs = gatherAll(hitGatherer);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        missEveryTime.close();
        fixture.close();
    }

    private Map<String, FloatBuffer> gatherAll(EmbeddingGatherer gatherer) {
        Map<String, FloatBuffer> byTable = new HashMap<>();
        for (int t = 0; t < tables.size(); t++) {
            byTable.put(tables.get(t).name(), gatherer.gather(tables.get(t), rowsByTable[t], buffers));
        }
        return byTable;
    }

    @Benchmark
    public long[][] encode() {
        return encoder().encode(fixture.request, new FeatureIssues());
    }

    private FeatureEncoder encoder;

    private FeatureEncoder encoder() {
        if (encoder == null) {
            encoder = new FeatureEncoder(fixture.bundle, UnknownFeaturePolicy.REJECT);
        }
        return encoder;
    }

    /** The distinct rows of every table from the warm Caffeine caches. */
    @Benchmark
    public float[] fetchCacheHit() {
        for (int t = 0; t < tables.size(); t++) {
            fixture.cached.fetchRows(tables.get(t).name(), distinctRowsByTable[t], destination);
        }
        return destination;
    }

    /** The same rows when every one misses: Caffeine's miss path plus the mapped-file read. */
    @Benchmark
    public float[] fetchCacheMiss() {
        for (int t = 0; t < tables.size(); t++) {
            missEveryTime.fetchRows(tables.get(t).name(), distinctRowsByTable[t], destination);
        }
        return destination;
    }

    /** The same rows straight from the mapped files (page cache warm), no cache in front. */
    @Benchmark
    public float[] fetchMappedOnly() {
        for (int t = 0; t < tables.size(); t++) {
            fixture.mapped.fetchRows(tables.get(t).name(), distinctRowsByTable[t], destination);
        }
        return destination;
    }

    /** Tensor building: de-duplicate rows, fetch them (cache hits), copy every slot into the direct buffers. */
    @Benchmark
    public Map<String, FloatBuffer> gatherCacheHit() {
        return gatherAll(hitGatherer);
    }

    /** ... and as the service does with its default store: straight from the mapped files, no cache in front. */
    @Benchmark
    public Map<String, FloatBuffer> gatherMapped() {
        return gatherAll(mappedGatherer);
    }

    /** Wrapping the filled direct buffers as OnnxTensors (no copy) and closing them. */
    @Benchmark
    public void wrapTensors(Blackhole blackhole) throws OrtException {
        OrtEnvironment environment = OrtEnvironment.getEnvironment();
        for (Map.Entry<String, FloatBuffer> entry : inputs.entrySet()) {
            int fields = fixture.bundle.manifest().tables().stream()
                    .filter(t -> t.name().equals(entry.getKey())).findFirst().orElseThrow().fields().size();
            try (OnnxTensor tensor = OnnxTensor.createTensor(environment, entry.getValue(),
                    new long[] {batch, fields, entry.getValue().limit() / batch / fields})) {
                blackhole.consume(tensor);
            }
        }
    }

    /** De-duplicating the request's slot rows (4 tables x 1 600 slots) as EmbeddingGatherer did before: boxed. */
    @Benchmark
    public void distinctBoxed(Blackhole blackhole) {
        for (long[] rows : rowsByTable) {
            blackhole.consume(LongStream.of(rows).distinct().sorted().toArray());
        }
    }

    /**
     * ... as it did next: a primitive sort and an in-place unique, then a binary search per slot to find its row
     * among the distinct ones.
     */
    @Benchmark
    public void distinctSortAndSearch(Blackhole blackhole) {
        for (long[] rows : rowsByTable) {
            long[] sorted = rows.clone();
            Arrays.sort(sorted);
            int distinct = 0;
            for (int i = 0; i < sorted.length; i++) {
                if (distinct == 0 || sorted[i] != sorted[distinct - 1]) {
                    sorted[distinct++] = sorted[i];
                }
            }
            long[] unique = Arrays.copyOf(sorted, distinct);
            int positions = 0;
            for (long row : rows) {
                positions += Arrays.binarySearch(unique, row);
            }
            blackhole.consume(unique);
            blackhole.consume(positions);
        }
    }

    /** ... and as it does now: one pass through a reused open-addressing table ({@link DistinctRows}). */
    @Benchmark
    public void distinctHashed(Blackhole blackhole) {
        for (long[] rows : rowsByTable) {
            distinctRows.index(rows);
            int positions = 0;
            for (int slot = 0; slot < rows.length; slot++) {
                positions += distinctRows.positionOf(slot);
            }
            blackhole.consume(distinctRows.rows());
            blackhole.consume(positions);
        }
    }

    /** The dense network on the prepared inputs, as the service calls it (tensors made and closed per call). */
    @Benchmark
    public float[][] onnxRun() {
        return fixture.network.run(batch, inputs);
    }

    /** The whole in-process scoring of the request: encode, gather (mapped files), run, build results. */
    @Benchmark
    public ScoredRequest score() {
        return fixture.scorer.score(fixture.request, Deadline.none(), StageTimings.NONE);
    }
}
