package dev.stemnet.service.experiment;

import jakarta.validation.Valid;
import jakarta.validation.constraints.Min;
import jakarta.validation.constraints.NotNull;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.hibernate.validator.constraints.time.DurationMin;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.util.unit.DataSize;
import org.springframework.validation.annotation.Validated;

/**
 * {@code stem.experiments.*}; defaults are in {@code application.yaml}.
 *
 * @param config       the experiment file; without one, requests are scored as before and carry no experiment
 * @param forceCallers caller name ({@code X-Caller}) to the token ({@code X-Caller-Token}) that lets it force arms
 * @param exposureLog  where exposure records go; without a directory none are written
 */
@ConfigurationProperties("stem.experiments")
@Validated
public record ExperimentProperties(
        Path config,
        @DefaultValue Map<String, String> forceCallers,
        @NotNull @Valid ExposureLogSettings exposureLog) {

    /**
     * @param dir           the directory of {@code exposures-<sequence>.jsonl} files
     * @param maxFileSize   a new file starts before one would grow past this
     * @param maxFiles      files kept, the oldest deleted first
     * @param queueCapacity records waiting for the writer; past that they are dropped and counted
     * @param flushInterval records are handed to the OS at least this often, so a crash loses at most about this much
     */
    public record ExposureLogSettings(
            Path dir,
            @NotNull DataSize maxFileSize,
            @Min(1) int maxFiles,
            @Min(1) int queueCapacity,
            @NotNull @DurationMin(millis = 1) Duration flushInterval) {}
}
