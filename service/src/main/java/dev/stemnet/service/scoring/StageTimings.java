package dev.stemnet.service.scoring;

/** Receives how long each stage of scoring took; kept apart from any metrics library. */
@FunctionalInterface
public interface StageTimings {

    StageTimings NONE = (stage, nanos) -> {};

    void record(ScoringStage stage, long nanos);

    /**
     * The CPU time the calling thread spent in the network's run: beside {@link ScoringStage#RUN}'s wall time, what
     * the network costs of the process's CPU, and so what the serving around it costs.
     */
    default void recordNetworkCpu(long nanos) {}
}
