package dev.stemnet.service.pipeline;

import dev.stemnet.service.bundle.Manifest.ModelInfo;
import dev.stemnet.service.experiment.ExperimentArmUnavailableException;
import dev.stemnet.service.experiment.ExperimentDecision;
import dev.stemnet.service.experiment.Experiments;
import dev.stemnet.service.experiment.ForcedArms;
import dev.stemnet.service.metrics.ScoringMetrics;
import dev.stemnet.service.model.LoadedModel;
import dev.stemnet.service.model.ModelLease;
import dev.stemnet.service.model.ModelRegistry;
import dev.stemnet.service.model.UnknownModelException;
import dev.stemnet.service.scoring.Deadline;
import dev.stemnet.service.scoring.InvalidRequestException;
import dev.stemnet.service.scoring.ScoreRequest;
import dev.stemnet.service.scoring.ScoredRequest;
import java.util.List;
import java.util.UUID;

/**
 * The life of a scoring request, in order:
 * <ol>
 * <li>{@link #admit admit} on arrival, before the body is read: refused at once when it could not be scored within
 * its deadline;</li>
 * <li>{@link #score score} once the body is parsed: check its size, decide its experiment arms, lease the model the
 * arm (or the request) names, wait for a scoring slot, score, tell the {@link ScoringRecorder recorders}, queue the
 * request for its shadow models ({@link ShadowScoring}, off the request path).</li>
 * </ol>
 * The request keeps the model version it leased to the end, even when a newer version is swapped in meanwhile.
 */
public final class ScoringPipeline {

    private final Admission admission;
    private final Experiments experiments;
    private final ModelRegistry registry;
    private final ScoringMetrics metrics;
    private final List<ScoringRecorder> recorders;
    private final ShadowScoring shadows;
    private final int maxCandidates;

    public ScoringPipeline(Admission admission, Experiments experiments, ModelRegistry registry, ScoringMetrics metrics,
            List<ScoringRecorder> recorders, ShadowScoring shadows, int maxCandidates) {
        this.admission = admission;
        this.experiments = experiments;
        this.registry = registry;
        this.metrics = metrics;
        this.recorders = List.copyOf(recorders);
        this.shadows = shadows;
        this.maxCandidates = maxCandidates;
    }

    /**
     * @param deadline counted from the request's arrival
     * @throws OverloadedException when the request could not be scored within its deadline
     */
    public Admission.Ticket admit(Deadline deadline, Priority priority) {
        return admission.admit(deadline, priority);
    }

    /**
     * @param ticket the request's, from {@link #admit}; the caller closes it once the response is written
     * @throws InvalidRequestException  for a request this model cannot score as asked
     * @throws dev.stemnet.service.scoring.DeadlineExceededException when the deadline passes before scoring ends
     */
    public ScoredExchange score(ScoreRequest request, ForcedArms force, Admission.Ticket ticket, RequestLabels labels) {
        Deadline deadline = ticket.deadline();
        deadline.check("scoring could start");
        int candidateCount = request.candidates().size();
        if (candidateCount > maxCandidates) {
            throw new InvalidRequestException("candidates",
                    candidateCount + " candidates, at most " + maxCandidates + " per request (stem.scoring.max-candidates)");
        }
        ExperimentDecision decision = experiments.decide(request.userId(), request.model(), force);
        labels.arms(decision.randomArmsByLayer());
        ScoredExchange exchange;
        try (ModelLease lease = lease(decision); Admission.Slot slot = ticket.awaitSlot()) {
            LoadedModel model = lease.model();
            ModelInfo info = model.manifest().model();
            labels.model(info.name(), info.version());
            ExperimentDecision served = decision.servedBy(info.name(), info.version());
            ScoredRequest scored = model.scorer().score(request, deadline, metrics.of(model));
            String requestId = request.requestId() != null ? request.requestId() : UUID.randomUUID().toString();
            exchange = new ScoredExchange(requestId, request, model, served, scored);
            for (ScoringRecorder recorder : recorders) {
                recorder.scored(exchange);
            }
        }
        // With the slot given back: a shadow is shed when serving traffic waits, this request not counted.
        shadows.submit(exchange);
        return exchange;
    }

    /** @throws ExperimentArmUnavailableException when the unit's arm names a model that does not serve */
    private ModelLease lease(ExperimentDecision decision) {
        try {
            return registry.lease(decision.model());
        } catch (UnknownModelException e) {
            if (!decision.armChoseModel()) {
                throw e;
            }
            throw new ExperimentArmUnavailableException("the experiment arm's model is not serving: " + e.getMessage());
        }
    }
}
