package dev.stemnet.service.experiment;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
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
 * @param shadow        the shadow's name, on shadow lines only; {@code servedModel} and {@code servedModelVersion} then
 *                      name the model whose scores the response carried (on the served line of the same request id)
 * @param configVersion the experiment configuration's version; {@code null} when none is active
 * @param assignments   one per layer the unit was exposed to; empty when no configuration is active
 * @param items         every candidate with its score per task, in request order
 */
@JsonPropertyOrder({"time", "requestId", "unitId", "configVersion", "role", "shadow", "model", "modelVersion",
        "servedModel", "servedModelVersion", "assignments", "items"})
public record ExposureRecord(
        String time,
        String requestId,
        String unitId,
        String configVersion,
        Role role,
        @JsonInclude(JsonInclude.Include.NON_NULL) String shadow,
        String model,
        String modelVersion,
        @JsonInclude(JsonInclude.Include.NON_NULL) String servedModel,
        @JsonInclude(JsonInclude.Include.NON_NULL) String servedModelVersion,
        List<Assignment> assignments,
        List<CandidateScores> items) {

    /** Whose scores a line holds: the model that answered, or a shadow scoring the same request on the side. */
    public enum Role {
        @JsonProperty("served") SERVED,
        @JsonProperty("shadow") SHADOW
    }

    /** The scores the response carried. */
    public static ExposureRecord served(String time, String requestId, String unitId, String configVersion, String model,
            String modelVersion, List<Assignment> assignments, List<CandidateScores> items) {
        return new ExposureRecord(time, requestId, unitId, configVersion, Role.SERVED, null, model, modelVersion, null,
                null, assignments, items);
    }

    /** Always three fraction digits, unlike {@link Instant#toString()}, so every line parses with one format. */
    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSS'Z'")
            .withZone(ZoneOffset.UTC);

    public static String time(Instant instant) {
        return TIME.format(instant);
    }
}
