package dev.stemnet.service.config;

import dev.stemnet.service.embedding.CacheSettings;
import dev.stemnet.service.inference.RuntimeSettings;
import jakarta.validation.Valid;
import jakarta.validation.constraints.Min;
import jakarta.validation.constraints.NotNull;
import java.nio.file.Path;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.validation.annotation.Validated;

/** Every {@code stem.*} property; defaults are in {@code application.yaml}. */
@ConfigurationProperties("stem")
@Validated
public record StemProperties(
        @DefaultValue @NotNull @Valid Bundle bundle,
        @NotNull @Valid RuntimeSettings runtime,
        @NotNull @Valid CacheSettings cache,
        @NotNull @Valid Scoring scoring) {

    /** @param dir the bundle directory written by the trainer; required */
    public record Bundle(@NotNull Path dir) {}

    /** @param maxCandidates larger requests are refused with 400 */
    public record Scoring(@Min(1) int maxCandidates) {}
}
