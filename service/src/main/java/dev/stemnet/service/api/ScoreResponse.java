package dev.stemnet.service.api;

import dev.stemnet.service.scoring.CandidateScores;
import java.util.List;

/** The body of {@code POST /v1/score}: results in candidate order. */
public record ScoreResponse(String requestId, ModelReference model, List<CandidateScores> results) {

    public record ModelReference(String name, String version) {}
}
