package dev.stemnet.service.experiment;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Where one request's unit falls in every layer, and so which model scores it.
 *
 * @param configVersion {@code null} when no experiment configuration is active
 * @param model         the model to lease; {@code null} for the default model
 * @param armChoseModel whether {@code model} comes from the model layer (then a model that does not serve is a
 *                      503, not the client's 404)
 * @param shadows       the shadow models this request is also scored by, off the request path
 */
public record ExperimentDecision(String configVersion, List<Assignment> assignments, String model, boolean armChoseModel,
        List<ExperimentConfig.Shadow> shadows) {

    public ExperimentDecision {
        shadows = List.copyOf(shadows);
    }

    static ExperimentDecision none(String requestedModel) {
        return new ExperimentDecision(null, List.of(), requestedModel, false, List.of());
    }

    /**
     * The decision with the version that actually serves filled in.
     *
     * @throws ExperimentArmUnavailableException when the arm pins another version
     */
    public ExperimentDecision servedBy(String servedModel, String servedVersion) {
        if (!armChoseModel) {
            return this;
        }
        List<Assignment> served = assignments.stream().map(assignment -> {
            if (assignment.model() == null) {
                return assignment;
            }
            if (assignment.version() != null && !assignment.version().equals(servedVersion)) {
                throw new ExperimentArmUnavailableException("arm '" + assignment.arm() + "' of layer '" + assignment.layer()
                        + "' is pinned to " + servedModel + " version " + assignment.version() + " but version "
                        + servedVersion + " serves; reload the experiments with the new version");
            }
            return assignment.withVersion(servedVersion);
        }).toList();
        return new ExperimentDecision(configVersion, served, model, true, shadows);
    }

    /** {@code null} without an active configuration, so that the response carries no {@code experiment}. */
    public ExperimentReport report() {
        return configVersion == null ? null : new ExperimentReport(configVersion, assignments);
    }

    /** Arms by layer for per-arm meters; forced units are left out, they are not a random sample. */
    public Map<String, String> randomArmsByLayer() {
        Map<String, String> arms = new LinkedHashMap<>();
        assignments.stream().filter(assignment -> !Boolean.TRUE.equals(assignment.forced()))
                .forEach(assignment -> arms.put(assignment.layer(), assignment.arm()));
        return arms;
    }
}
