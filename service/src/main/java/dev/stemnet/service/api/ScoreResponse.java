package dev.stemnet.service.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import dev.stemnet.service.bundle.Manifest.ModelInfo;
import dev.stemnet.service.experiment.ExperimentReport;
import dev.stemnet.service.pipeline.ScoredExchange;
import dev.stemnet.service.scoring.CandidateScores;
import java.util.List;

/**
 * The body of {@code POST /v1/score}: results in candidate order, and the unit's experiment arms when an
 * experiment configuration is active (left out otherwise).
 */
public record ScoreResponse(String requestId, ModelReference model, List<CandidateScores> results,
        @JsonInclude(JsonInclude.Include.NON_NULL) ExperimentReport experiment) {

    public record ModelReference(String name, String version) {}

    static ScoreResponse of(ScoredExchange exchange) {
        ModelInfo model = exchange.model().manifest().model();
        return new ScoreResponse(exchange.requestId(), new ModelReference(model.name(), model.version()),
                exchange.scored().results(), exchange.decision().report());
    }
}
