package dev.stemnet.service.model;

/**
 * Runs a loaded version after its parity check and before it serves, at start and on every reload alike;
 * throwing refuses the version, and whatever served before keeps serving.
 */
@FunctionalInterface
public interface ModelWarmup {

    WarmupReport warmUp(LoadedModel model);
}
