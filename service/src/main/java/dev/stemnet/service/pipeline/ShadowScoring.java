package dev.stemnet.service.pipeline;

import dev.stemnet.service.bundle.Manifest.ModelInfo;
import dev.stemnet.service.experiment.ExperimentConfig.Shadow;
import dev.stemnet.service.experiment.ExposureLog;
import dev.stemnet.service.experiment.ExposureRecord;
import dev.stemnet.service.metrics.LogThrottle;
import dev.stemnet.service.metrics.ShadowMetrics;
import dev.stemnet.service.metrics.ShadowMetrics.Outcome;
import dev.stemnet.service.model.ModelLease;
import dev.stemnet.service.model.ModelNotReadyException;
import dev.stemnet.service.model.ModelRegistry;
import dev.stemnet.service.model.UnknownModelException;
import dev.stemnet.service.scoring.CandidateScores;
import dev.stemnet.service.scoring.Deadline;
import dev.stemnet.service.scoring.DeadlineExceededException;
import dev.stemnet.service.scoring.ScoreRequest;
import dev.stemnet.service.scoring.ScoreRequest.Candidate;
import dev.stemnet.service.scoring.Scorer;
import dev.stemnet.service.scoring.StageTimings;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Scores served requests again with their shadow models, off the request path: the response never waits for a
 * shadow and never fails because of one. Shadows run on threads and a bounded queue of their own, a part of the
 * candidates at a time; they are the first thing shed under overload (whenever serving requests wait for a scoring
 * slot: at queueing, when a thread picks one up and between its parts), and a full queue sheds them too.
 * A scored shadow writes its scores beside the served ones in the exposure log (same request id, user and items) and
 * its differences to the served scores into the metrics; every other outcome is counted by reason and logged at a
 * throttled rate.
 */
public final class ShadowScoring implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(ShadowScoring.class);
    private static final Duration FAILURE_LOG_INTERVAL = Duration.ofSeconds(10);

    private final ModelRegistry registry;
    private final Admission admission;
    private final ShadowMetrics metrics;
    private final Optional<ExposureLog> exposureLog;
    private final Duration deadline;
    private final int chunkCandidates;
    private final ThreadPoolExecutor executor;
    private final LogThrottle failureLog = new LogThrottle(FAILURE_LOG_INTERVAL, System::nanoTime);

    public ShadowScoring(ShadowProperties properties, ModelRegistry registry, Admission admission, ShadowMetrics metrics,
            Optional<ExposureLog> exposureLog) {
        this.registry = registry;
        this.admission = admission;
        this.metrics = metrics;
        this.exposureLog = exposureLog;
        this.deadline = properties.deadline();
        this.chunkCandidates = properties.chunkCandidates();
        AtomicInteger threadNumber = new AtomicInteger();
        this.executor = new ThreadPoolExecutor(properties.threads(), properties.threads(), 0, TimeUnit.MILLISECONDS,
                new ArrayBlockingQueue<>(properties.queueCapacity()), task -> {
                    Thread thread = new Thread(() -> {
                        lowerPriority(properties.nice(), properties.schedIdle());
                        task.run();
                    }, "shadow-scoring-" + threadNumber.incrementAndGet());
                    thread.setDaemon(true);
                    return thread;
                });
        // Started now, so that a priority that cannot be set is logged at start-up and the gauge tells from then on.
        executor.prestartAllCoreThreads();
    }

    /**
     * A shadow and a served request on the same machine share its cores: at the serving threads' priority a shadow
     * holds a core that a served request, or the client beside it, is waiting for (docs/performance.md, "Shadow
     * traffic").
     */
    private void lowerPriority(int nice, boolean schedIdle) {
        if (nice == 0 && !schedIdle) {
            return;
        }
        List<String> refused = new ArrayList<>();
        if (nice > 0) {
            ThreadPriority.setNiceOfCurrentThread(nice).ifPresent(refused::add);
        }
        if (schedIdle) {
            ThreadPriority.setIdleClassOfCurrentThread().ifPresent(refused::add);
        }
        if (refused.isEmpty()) {
            metrics.threadLowered();
        } else {
            log.warn("Shadow thread {} does not run as low as configured (stem.shadow.nice={}, stem.shadow.sched-idle={}):"
                    + " {}", Thread.currentThread().getName(), nice, schedIdle, String.join("; ", refused));
        }
    }

    /** Queues the request for each of its shadows; returns at once. */
    void submit(ScoredExchange served) {
        if (served.decision().shadows().isEmpty()) {
            return;
        }
        ModelInfo servedModel = served.model().manifest().model();
        long servedAt = System.nanoTime();
        for (Shadow shadow : served.decision().shadows()) {
            if (admission.servingWaits()) {
                metrics.count(shadow.name(), shadow.model(), Outcome.OVERLOAD);
                continue;
            }
            try {
                executor.execute(() -> score(shadow, served, servedModel, servedAt));
            } catch (RejectedExecutionException e) {
                metrics.count(shadow.name(), shadow.model(), Outcome.QUEUE_FULL);
            }
        }
    }

    private void score(Shadow shadow, ScoredExchange served, ModelInfo servedModel, long servedAt) {
        Deadline shadowDeadline = Deadline.since(servedAt, deadline);
        if (admission.servingWaits()) {
            metrics.count(shadow.name(), shadow.model(), Outcome.OVERLOAD);
            return;
        }
        try (ModelLease lease = registry.lease(shadow.model())) {
            shadowDeadline.check("the shadow started");
            Optional<List<CandidateScores>> scored = scoreInParts(lease.model().scorer(), served.request(), shadowDeadline);
            if (scored.isEmpty()) {
                metrics.count(shadow.name(), shadow.model(), Outcome.OVERLOAD);
                return;
            }
            List<CandidateScores> scores = scored.get();
            metrics.scored(shadow.name(), shadow.model(), System.nanoTime() - servedAt);
            recordDifferences(shadow, served.scored().results(), scores);
            ModelInfo model = lease.model().manifest().model();
            exposureLog.ifPresent(exposures -> exposures.record(new ExposureRecord(
                    ExposureRecord.time(Instant.now()), served.requestId(), served.request().userId(),
                    served.decision().configVersion(), ExposureRecord.Role.SHADOW, shadow.name(), model.name(),
                    model.version(), servedModel.name(), servedModel.version(), served.decision().assignments(), scores)));
            metrics.count(shadow.name(), shadow.model(), Outcome.SCORED);
        } catch (UnknownModelException | ModelNotReadyException e) {
            failed(shadow, Outcome.NOT_LOADED, e);
        } catch (DeadlineExceededException e) {
            failed(shadow, Outcome.TIMEOUT, e);
        } catch (RuntimeException e) {
            failed(shadow, Outcome.ERROR, e);
        }
    }

    /**
     * Scores the request {@link ShadowProperties#chunkCandidates} candidates at a time, offering the core to any other
     * thread between two parts. A shadow runs at the lowest priority, yet the kernel may still place it on the core of
     * a served request and give it a turn there at a timer tick, which it would otherwise keep until it finished: up to
     * a whole tick (4 ms at {@code HZ=250}) that the served request waits (docs/performance.md, "Shadow traffic").
     *
     * @return empty when serving traffic began to wait for a slot meanwhile: the shadow gives way, unscored
     */
    private Optional<List<CandidateScores>> scoreInParts(Scorer scorer, ScoreRequest request, Deadline shadowDeadline) {
        List<Candidate> candidates = request.candidates();
        if (candidates.size() <= chunkCandidates) {
            return Optional.of(scorer.score(request, shadowDeadline, StageTimings.NONE).results());
        }
        List<CandidateScores> scores = new ArrayList<>(candidates.size());
        for (int from = 0; from < candidates.size(); from += chunkCandidates) {
            if (from > 0) {
                Thread.yield();
                if (admission.servingWaits()) {
                    return Optional.empty();
                }
            }
            List<Candidate> part = candidates.subList(from, Math.min(candidates.size(), from + chunkCandidates));
            scores.addAll(scorer.score(request.withCandidates(part), shadowDeadline, StageTimings.NONE).results());
        }
        return Optional.of(scores);
    }

    private void recordDifferences(Shadow shadow, List<CandidateScores> served, List<CandidateScores> scores) {
        for (String task : served.get(0).scores().keySet()) {
            if (!scores.get(0).scores().containsKey(task)) {
                continue;
            }
            double[] differences = new double[served.size()];
            for (int c = 0; c < differences.length; c++) {
                differences[c] = scores.get(c).scores().get(task) - served.get(c).scores().get(task);
            }
            metrics.differences(shadow.name(), task, differences);
        }
    }

    private void failed(Shadow shadow, Outcome outcome, RuntimeException e) {
        metrics.count(shadow.name(), shadow.model(), outcome);
        failureLog.admit(shadow.name() + "/" + outcome).ifPresent(heldBack -> log.warn(
                "Shadow '{}' (model {}) did not score a request ({}): {}{}", shadow.name(), shadow.model(),
                outcome.label(), e.getMessage(),
                heldBack == 0 ? "" : " (" + heldBack + " similar failures not logged since the last line)"));
    }

    /** Shadow work still queued is dropped: nobody waits for it. */
    @Override
    public void close() {
        executor.shutdownNow();
    }
}
