package dev.stemnet.service.experiment;

/**
 * The arm a unit is in names a model, or a model version, that does not serve right now. Answered with 503:
 * scoring the unit with another model would silently corrupt the experiment.
 */
public class ExperimentArmUnavailableException extends RuntimeException {

    public ExperimentArmUnavailableException(String message) {
        super(message);
    }
}
