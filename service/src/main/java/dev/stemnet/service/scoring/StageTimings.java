package dev.stemnet.service.scoring;

/** Receives how long each stage of scoring took; kept apart from any metrics library. */
@FunctionalInterface
public interface StageTimings {

    StageTimings NONE = (stage, nanos) -> {};

    void record(ScoringStage stage, long nanos);
}
