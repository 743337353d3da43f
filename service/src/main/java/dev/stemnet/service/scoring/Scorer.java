package dev.stemnet.service.scoring;

import dev.stemnet.service.bundle.Manifest.TableSpec;
import dev.stemnet.service.bundle.ModelBundle;
import dev.stemnet.service.embedding.EmbeddingStore;
import dev.stemnet.service.inference.OnnxModel;
import dev.stemnet.service.scoring.ScoreRequest.Candidate;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.IntStream;

/**
 * Scores the candidates of a request with one model: encode values as table rows, gather the rows into
 * the network's inputs, run the network once for the whole batch, pick the requested tasks. How values become rows
 * is the model's {@link EmbeddingState}, which deltas replace while the model serves: a request reads it once, so it
 * scores entirely with one state, and swapping in the next one never waits for requests.
 */
public final class Scorer {

    private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();
    private static final boolean THREAD_CPU_TIME = THREADS.isCurrentThreadCpuTimeSupported() && THREADS.isThreadCpuTimeEnabled();

    private final List<TableSpec> tables;
    private final List<String> tasks;
    private final AtomicReference<EmbeddingState> embeddings;
    private final OnnxModel network;
    private final ThreadLocal<InputBuffers> buffers = ThreadLocal.withInitial(InputBuffers::new);

    public Scorer(ModelBundle bundle, EmbeddingStore store, OnnxModel network, UnknownFeaturePolicy unknownFeatures) {
        this.tables = bundle.manifest().tables();
        this.tasks = bundle.manifest().tasks();
        this.embeddings = new AtomicReference<>(EmbeddingState.base(bundle, store, unknownFeatures));
        this.network = network;
    }

    /** The state requests score with now. */
    public EmbeddingState embeddings() {
        return embeddings.get();
    }

    /**
     * Requests score with {@code next} from now on, unless the state changed since {@code expected} was read.
     *
     * @return whether {@code next} was swapped in
     */
    public boolean publish(EmbeddingState expected, EmbeddingState next) {
        return embeddings.compareAndSet(expected, next);
    }

    /** As {@link #score(ScoreRequest, EmbeddingState, Deadline, StageTimings)} with the state serving now. */
    public ScoredRequest score(ScoreRequest request, Deadline deadline, StageTimings timings) {
        return score(request, embeddings.get(), deadline, timings);
    }

    /**
     * @param state    the embedding state to score with: the serving one, or one staged for its parity check
     * @param deadline checked before each stage
     * @param timings  told how long each stage took
     * @throws InvalidRequestException   for an unknown task, or an unknown feature when those are refused
     * @throws DeadlineExceededException when the deadline passes before the last stage starts
     */
    public ScoredRequest score(ScoreRequest request, EmbeddingState state, Deadline deadline, StageTimings timings) {
        int[] taskColumns = requestedTasks(request.tasks());
        String[] taskNames = new String[taskColumns.length];
        for (int i = 0; i < taskColumns.length; i++) {
            taskNames[i] = tasks.get(taskColumns[i]);
        }
        FeatureIssues issues = new FeatureIssues();
        long started = System.nanoTime();
        long[][] rowsByTable = state.encoder.encode(request, issues);
        started = recordStage(timings, ScoringStage.ENCODE, started);

        deadline.check("fetching embedding rows");
        InputBuffers threadBuffers = buffers.get();
        Map<String, FloatBuffer> inputByTable = new HashMap<>();
        for (int t = 0; t < tables.size(); t++) {
            TableSpec table = tables.get(t);
            inputByTable.put(table.name(), state.gatherer.gather(table, rowsByTable[t], threadBuffers));
        }
        started = recordStage(timings, ScoringStage.FETCH, started);

        deadline.check("running the network");
        List<Candidate> candidates = request.candidates();
        long cpuStarted = threadCpuNanos();
        float[][] probabilities = network.run(candidates.size(), inputByTable);
        if (cpuStarted >= 0) {
            timings.recordNetworkCpu(threadCpuNanos() - cpuStarted);
        }
        recordStage(timings, ScoringStage.RUN, started);

        List<CandidateScores> results = new ArrayList<>(candidates.size());
        for (int b = 0; b < candidates.size(); b++) {
            results.add(new CandidateScores(candidates.get(b).itemId(),
                    new TaskScores(taskNames, taskColumns, probabilities[b])));
        }
        return new ScoredRequest(results, issues);
    }

    /** The calling thread's CPU time, or -1 where the JVM cannot tell it (HotSpot on Linux can). */
    private static long threadCpuNanos() {
        return THREAD_CPU_TIME ? THREADS.getCurrentThreadCpuTime() : -1;
    }

    /** @return now, the start of the next stage */
    private static long recordStage(StageTimings timings, ScoringStage stage, long started) {
        long now = System.nanoTime();
        timings.record(stage, now - started);
        return now;
    }

    /** The positions in the manifest of the tasks to return, ascending; every task when the request names none. */
    private int[] requestedTasks(List<String> requested) {
        boolean[] wanted = new boolean[tasks.size()];
        if (requested == null) {
            Arrays.fill(wanted, true);
        }
        for (int i = 0; requested != null && i < requested.size(); i++) {
            int position = tasks.indexOf(requested.get(i));
            if (position < 0) {
                throw new InvalidRequestException("tasks[" + i + "]",
                        "unknown task '" + ClientValues.echo(requested.get(i)) + "'; this model has tasks " + tasks);
            }
            wanted[position] = true;
        }
        return IntStream.range(0, wanted.length).filter(task -> wanted[task]).toArray();
    }
}
