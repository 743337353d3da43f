package dev.stemnet.service.experiment;

import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import dev.stemnet.service.scoring.CandidateScores;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.List;

/**
 * One line of the exposure log: who was scored, in which arms, by which model, with which scores. The format is
 * documented in the service README ("Exposure log"); change both together.
 *
 * @param time          when the request was scored, ISO-8601 UTC in milliseconds, see {@link #time(Instant)}
 * @param unitId        the unit that was bucketed: the request's {@code userId}
 * @param configVersion the experiment configuration's version; {@code null} when none is active
 * @param assignments   one per layer the unit was exposed to; empty when no configuration is active
 * @param items         every candidate with its score per task, in request order
 */
@JsonPropertyOrder({"time", "requestId", "unitId", "configVersion", "model", "modelVersion", "assignments", "items"})
public record ExposureRecord(
        String time,
        String requestId,
        String unitId,
        String configVersion,
        String model,
        String modelVersion,
        List<Assignment> assignments,
        List<CandidateScores> items) {

    /** Always three fraction digits, unlike {@link Instant#toString()}, so every line parses with one format. */
    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSS'Z'")
            .withZone(ZoneOffset.UTC);

    public static String time(Instant instant) {
        return TIME.format(instant);
    }
}
