package dev.stemnet.service.experiment;

/** An experiment configuration refused at load; the message names the layer, arm and key at fault. */
public class InvalidExperimentConfigException extends RuntimeException {

    InvalidExperimentConfigException(String where, String problem) {
        super(where.isEmpty() ? problem : where + ": " + problem);
    }
}
