package dev.stemnet.service.api;

import dev.stemnet.service.bundle.Manifest.ModelInfo;
import dev.stemnet.service.config.StemProperties;
import dev.stemnet.service.metrics.ScoringMetrics;
import dev.stemnet.service.model.LoadedModel;
import dev.stemnet.service.model.ModelRegistry;
import dev.stemnet.service.scoring.CandidateScores;
import dev.stemnet.service.scoring.InvalidRequestException;
import dev.stemnet.service.scoring.ScoreRequest;
import jakarta.validation.Valid;
import java.util.List;
import java.util.UUID;
import org.springframework.http.MediaType;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RestController;

@RestController
class ScoreController {

    private final ModelRegistry registry;
    private final ScoringMetrics metrics;
    private final int maxCandidates;

    ScoreController(ModelRegistry registry, ScoringMetrics metrics, StemProperties properties) {
        this.registry = registry;
        this.metrics = metrics;
        this.maxCandidates = properties.scoring().maxCandidates();
    }

    @PostMapping(path = "/v1/score", consumes = MediaType.APPLICATION_JSON_VALUE, produces = MediaType.APPLICATION_JSON_VALUE)
    ScoreResponse score(@Valid @RequestBody ScoreRequest request) {
        int candidateCount = request.candidates().size();
        if (candidateCount > maxCandidates) {
            throw new InvalidRequestException("candidates",
                    candidateCount + " candidates, at most " + maxCandidates + " per request (stem.scoring.max-candidates)");
        }
        LoadedModel model = registry.current();
        List<CandidateScores> results = metrics.recordScoring(candidateCount, () -> model.scorer().score(request));
        ModelInfo info = model.manifest().model();
        return new ScoreResponse(
                request.requestId() != null ? request.requestId() : UUID.randomUUID().toString(),
                new ScoreResponse.ModelReference(info.name(), info.version()),
                results);
    }
}
