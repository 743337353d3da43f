package dev.stemnet.service.experiment;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.LinkedHashMap;
import java.util.Map;
import dev.stemnet.service.scoring.ClientValues;
import dev.stemnet.service.scoring.InvalidRequestException;

/**
 * What a QA caller asks for with {@code X-Experiment-Force: <layer>=<arm>[, <layer>=<arm>]}, and who asks:
 * {@code X-Caller} and {@code X-Caller-Token}, which must match {@code stem.experiments.force-callers}.
 */
public record ForcedArms(String header, String caller, String token) {

    public static final String FORCE_HEADER = "X-Experiment-Force";
    public static final String CALLER_HEADER = "X-Caller";
    public static final String TOKEN_HEADER = "X-Caller-Token";

    public boolean requested() {
        return header != null;
    }

    /** @throws ForcedAssignmentForbiddenException unless the caller is allow-listed with this token */
    void authorize(Map<String, String> allowedCallers) {
        String expected = caller == null ? null : allowedCallers.get(caller);
        // Constant time, so a guess does not learn how much of the token was right.
        if (expected == null || token == null || !MessageDigest.isEqual(
                expected.getBytes(StandardCharsets.UTF_8), token.getBytes(StandardCharsets.UTF_8))) {
            throw new ForcedAssignmentForbiddenException(caller);
        }
    }

    /** Layer to arm, unchecked against the configuration. */
    Map<String, String> armsByLayer() {
        Map<String, String> arms = new LinkedHashMap<>();
        for (String part : header.split(",")) {
            String[] layerAndArm = part.split("=", -1);
            if (layerAndArm.length != 2 || layerAndArm[0].isBlank() || layerAndArm[1].isBlank()) {
                throw new InvalidRequestException(FORCE_HEADER, "'" + ClientValues.echo(part.trim()) + "' is not <layer>=<arm>");
            }
            if (arms.put(layerAndArm[0].trim(), layerAndArm[1].trim()) != null) {
                throw new InvalidRequestException(FORCE_HEADER,
                        "layer '" + ClientValues.echo(layerAndArm[0].trim()) + "' is forced twice");
            }
        }
        return arms;
    }
}
