package dev.stemnet.service.scoring;

import jakarta.validation.constraints.NotBlank;
import jakarta.validation.constraints.NotEmpty;
import jakarta.validation.constraints.Size;
import java.util.List;
import java.util.Map;

/**
 * One user and the candidates to score for them. Feature values are raw categorical values as strings;
 * a {@code null} value counts as missing.
 *
 * @param requestId       optional, echoed in the response
 * @param model           optional, the name of the model to score with; {@code stem.models.default} when left out
 * @param tasks           optional, every task of the model when left out
 * @param contextFeatures optional, the model's context fields (neither user nor item: tab, page, hour), one value
 *                        for every candidate
 */
public record ScoreRequest(
        String requestId,
        String model,
        @NotBlank String userId,
        Map<String, String> userFeatures,
        @NotEmpty @CandidatesHaveItemIds List<Candidate> candidates,
        @Size(min = 1, message = "must not be empty; leave it out to score every task") List<@NotBlank String> tasks,
        Map<String, String> contextFeatures) {

    public ScoreRequest {
        userFeatures = userFeatures == null ? Map.of() : userFeatures;
        contextFeatures = contextFeatures == null ? Map.of() : contextFeatures;
    }

    /** A request without context features. */
    public ScoreRequest(String requestId, String model, String userId, Map<String, String> userFeatures,
            List<Candidate> candidates, List<String> tasks) {
        this(requestId, model, userId, userFeatures, candidates, tasks, Map.of());
    }

    /** The same user, context and tasks with other candidates (a part of these, say). */
    public ScoreRequest withCandidates(List<Candidate> otherCandidates) {
        return new ScoreRequest(requestId, model, userId, userFeatures, otherCandidates, tasks, contextFeatures);
    }

    /** Checked by {@link CandidatesHaveItemIds} (not {@code @Valid}: that costs per candidate): a non-blank itemId. */
    public record Candidate(String itemId, Map<String, String> features) {

        public Candidate {
            features = features == null ? Map.of() : features;
        }
    }
}
