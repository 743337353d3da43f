package dev.stemnet.service.delta;

import dev.stemnet.service.scoring.Scorer;

/** Told of every delta attempt, for metrics; called on the thread that made it. */
@FunctionalInterface
public interface DeltaEvents {

    DeltaEvents NONE = (model, version, scorer, attempt) -> {};

    /** @param scorer the model version's, its embedding state already the new one when the delta was applied */
    void attempted(String model, String version, Scorer scorer, DeltaAttempt attempt);
}
