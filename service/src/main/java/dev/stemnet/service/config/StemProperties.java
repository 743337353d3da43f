package dev.stemnet.service.config;

import dev.stemnet.service.embedding.CacheSettings;
import dev.stemnet.service.inference.RuntimeSettings;
import dev.stemnet.service.scoring.UnknownFeaturePolicy;
import jakarta.validation.Valid;
import jakarta.validation.constraints.Min;
import jakarta.validation.constraints.NotBlank;
import jakarta.validation.constraints.NotNull;
import java.nio.file.Path;
import java.time.Duration;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.boot.context.properties.bind.Name;
import org.springframework.util.unit.DataSize;
import org.springframework.validation.annotation.Validated;

/** Every {@code stem.*} property; defaults are in {@code application.yaml}. */
@ConfigurationProperties("stem")
@Validated
public record StemProperties(
        @NotNull @Valid Models models,
        @NotNull @Valid RuntimeSettings runtime,
        @NotNull @Valid CacheSettings cache,
        @NotNull @Valid Scoring scoring,
        @NotNull @Valid Warmup warmup,
        @DefaultValue @NotNull Admin admin) {

    /**
     * @param repository    a directory with one bundle per subdirectory; required
     * @param defaultModel  the model name a request that names none is scored with; readiness waits for it
     * @param watch         scan the repository when its files change, besides on the admin reload
     * @param watchDebounce how long the files must stay quiet before that scan
     */
    public record Models(
            @NotNull Path repository,
            @Name("default") @NotBlank String defaultModel,
            boolean watch,
            @NotNull Duration watchDebounce) {}

    /**
     * @param maxCandidates   larger requests are refused with 400
     * @param maxConcurrent   requests scored at once; 0 (the default): the cores available to the JVM, container
     *                        limits included
     * @param maxQueued       admitted requests beyond those (reading their body or waiting for a slot); past that,
     *                        or when the estimated time to scores passes the deadline, a request is refused with 429
     *                        on arrival
     * @param spareThreads    public-port worker threads beyond {@code maxConcurrent + maxQueued}, to answer refusals
     * @param deadline        counted from arrival; a request not scored by then gets 504 and is never scored
     * @param maxBodySize     larger request bodies get 413
     * @param unknownFeatures what to do with a feature name the model does not have
     */
    public record Scoring(
            @Min(1) int maxCandidates,
            @Min(0) int maxConcurrent,
            @Min(0) int maxQueued,
            @Min(1) int spareThreads,
            @NotNull Duration deadline,
            @NotNull DataSize maxBodySize,
            @NotNull UnknownFeaturePolicy unknownFeatures) {

        public Scoring {
            if (maxConcurrent == 0) {
                maxConcurrent = Runtime.getRuntime().availableProcessors();
            }
        }
    }

    /**
     * The warm-up on generated traffic each version gets after its parity check, before it serves.
     *
     * @param requests   requests scored through the serving path; 0 skips the warm-up
     * @param candidates candidates per request, at most {@code stem.scoring.max-candidates}
     */
    public record Warmup(@Min(0) int requests, @Min(1) int candidates) {}

    /** @param token the bearer token the admin endpoints require; without one they refuse every call */
    public record Admin(String token) {}
}
