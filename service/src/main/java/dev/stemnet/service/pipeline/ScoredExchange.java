package dev.stemnet.service.pipeline;

import dev.stemnet.service.experiment.ExperimentDecision;
import dev.stemnet.service.model.LoadedModel;
import dev.stemnet.service.scoring.ScoreRequest;
import dev.stemnet.service.scoring.ScoredRequest;

/**
 * One scored request as the recorders see it.
 *
 * @param requestId the client's, or one made up for it
 * @param model     the version that scored it, still leased while recorders run
 * @param decision  the experiment decision with the served version filled in
 */
public record ScoredExchange(String requestId, ScoreRequest request, LoadedModel model, ExperimentDecision decision,
        ScoredRequest scored) {}
