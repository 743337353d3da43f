package dev.stemnet.service.api;

import dev.stemnet.service.bundle.Manifest.ModelInfo;
import dev.stemnet.service.config.StemProperties;
import dev.stemnet.service.experiment.ExperimentDecision;
import dev.stemnet.service.experiment.ExperimentMetrics;
import dev.stemnet.service.experiment.Experiments;
import dev.stemnet.service.experiment.ExposureLog;
import dev.stemnet.service.experiment.ExposureRecord;
import dev.stemnet.service.experiment.ForcedArms;
import dev.stemnet.service.metrics.ModelMeters;
import dev.stemnet.service.metrics.RequestTags;
import dev.stemnet.service.metrics.ScoringMetrics;
import dev.stemnet.service.model.LoadedModel;
import dev.stemnet.service.model.ModelLease;
import dev.stemnet.service.model.ModelRegistry;
import dev.stemnet.service.scoring.AdmissionGate;
import dev.stemnet.service.scoring.Deadline;
import dev.stemnet.service.scoring.InvalidRequestException;
import dev.stemnet.service.scoring.ScoreRequest;
import dev.stemnet.service.scoring.ScoredRequest;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.validation.Valid;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.UUID;
import org.springframework.http.MediaType;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RestController;

@RestController
class ScoreController {

    private final ModelRegistry registry;
    private final AdmissionGate admissionGate;
    private final ScoringMetrics metrics;
    private final Experiments experiments;
    private final ExperimentMetrics experimentMetrics;
    private final Optional<ExposureLog> exposureLog;
    private final int maxCandidates;
    private final Duration deadline;

    ScoreController(ModelRegistry registry, AdmissionGate admissionGate, ScoringMetrics metrics, StemProperties properties,
            Experiments experiments, ExperimentMetrics experimentMetrics, Optional<ExposureLog> exposureLog) {
        this.registry = registry;
        this.admissionGate = admissionGate;
        this.metrics = metrics;
        this.experiments = experiments;
        this.experimentMetrics = experimentMetrics;
        this.exposureLog = exposureLog;
        this.maxCandidates = properties.scoring().maxCandidates();
        this.deadline = properties.scoring().deadline();
    }

    /**
     * The request keeps the model version it leased to the end, even when a newer version is swapped in. With
     * experiments, the unit's arm in the model layer picks the model, and every scored request is logged as an
     * exposure.
     */
    @PostMapping(path = "/v1/score", consumes = MediaType.APPLICATION_JSON_VALUE, produces = MediaType.APPLICATION_JSON_VALUE)
    ScoreResponse score(@Valid @RequestBody ScoreRequest request, HttpServletRequest http) {
        Deadline requestDeadline = Deadline.after(deadline);
        int candidateCount = request.candidates().size();
        if (candidateCount > maxCandidates) {
            throw new InvalidRequestException("candidates",
                    candidateCount + " candidates, at most " + maxCandidates + " per request (stem.scoring.max-candidates)");
        }
        ExperimentDecision decision = experiments.decide(request.userId(), request.model(), new ForcedArms(
                http.getHeader(ForcedArms.FORCE_HEADER), http.getHeader(ForcedArms.CALLER_HEADER),
                http.getHeader(ForcedArms.TOKEN_HEADER)));
        RequestTags.arms(http, decision.randomArmsByLayer());
        try (ModelLease lease = decision.lease(registry);
                AdmissionGate.Permit permit = admissionGate.admit(requestDeadline)) {
            LoadedModel model = lease.model();
            ModelInfo info = model.manifest().model();
            RequestTags.model(http, info.name(), info.version());
            ExperimentDecision served = decision.servedBy(info.name(), info.version());
            ModelMeters meters = metrics.of(model);
            ScoredRequest scored = model.scorer().score(request, requestDeadline, meters);
            meters.recordScored(scored.results(), scored.featureIssues());
            experimentMetrics.recordScored(served, scored.results());
            String requestId = request.requestId() != null ? request.requestId() : UUID.randomUUID().toString();
            exposureLog.ifPresent(log -> log.record(new ExposureRecord(ExposureRecord.time(Instant.now()), requestId,
                    request.userId(), served.configVersion(), info.name(), info.version(), served.assignments(),
                    scored.results())));
            return new ScoreResponse(requestId, new ScoreResponse.ModelReference(info.name(), info.version()),
                    scored.results(), served.report());
        }
    }
}
