package dev.stemnet.service.pipeline;

/**
 * Told of every scored request, after its scores are ready and before the response is written: the model's
 * meters, the experiment's meters and the exposure log. Implementations must be quick and never throw; slow
 * work (files) goes to a queue of their own.
 */
public interface ScoringRecorder {

    void scored(ScoredExchange exchange);
}
