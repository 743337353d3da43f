package dev.stemnet.service.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import dev.stemnet.service.experiment.ExperimentReport;
import dev.stemnet.service.scoring.CandidateScores;
import java.util.List;

/**
 * The body of {@code POST /v1/score}: results in candidate order, and the unit's experiment arms when an
 * experiment configuration is active (left out otherwise).
 */
public record ScoreResponse(String requestId, ModelReference model, List<CandidateScores> results,
        @JsonInclude(JsonInclude.Include.NON_NULL) ExperimentReport experiment) {

    public record ModelReference(String name, String version) {}
}
