package dev.stemnet.service.model;

/** The default model is not serving yet (still loading, or its bundle was rejected). */
public class ModelNotReadyException extends RuntimeException {

    ModelNotReadyException(String model) {
        super("model '" + model + "' is not ready yet");
    }
}
