package dev.stemnet.service.pipeline;

import jakarta.validation.constraints.Max;
import jakarta.validation.constraints.Min;
import jakarta.validation.constraints.NotNull;
import java.time.Duration;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.validation.annotation.Validated;

/**
 * {@code stem.shadow.*}: how shadow scoring runs beside the served traffic (which requests are shadowed is the
 * experiment file's {@code shadows}). Defaults are in {@code application.yaml}.
 *
 * @param threads       threads scoring shadows; each takes a core while it runs, away from served traffic
 * @param queueCapacity shadow requests waiting for those threads; past that they are shed and counted
 * @param deadline      from the served scores; a shadow not scored by then is given up and counted
 * @param nice          the shadow threads' nice value (Linux, 0-19): at 19 a shadow gets a core only when nothing
 *                      else on the machine wants it; 0 is the serving threads' own priority
 * @param schedIdle     the shadow threads also run in Linux's {@code SCHED_IDLE} class: a core running only shadows
 *                      then counts as idle to a serving thread or a client that wakes up, which takes it at once
 * @param chunkCandidates a shadow scores its request this many candidates at a time and offers its core to any
 *                      other thread between two parts: a served request that shares the core waits for one part at
 *                      most, not for the whole shadow
 */
@ConfigurationProperties("stem.shadow")
@Validated
public record ShadowProperties(@Min(1) int threads, @Min(1) int queueCapacity, @NotNull Duration deadline,
        @Min(0) @Max(19) int nice, boolean schedIdle, @Min(1) int chunkCandidates) {}
