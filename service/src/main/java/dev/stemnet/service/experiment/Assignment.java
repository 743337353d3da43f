package dev.stemnet.service.experiment;

import com.fasterxml.jackson.annotation.JsonInclude;

/**
 * A unit's place in one layer, as the response and the exposure log report it.
 *
 * @param model   the model that scored the request, only in the model layer
 * @param version the version of that model that scored it
 * @param forced  {@code true} when a QA caller forced the arm; absent otherwise. Forced units are not a
 *                random sample: analyses drop them.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record Assignment(String layer, int bucket, String arm, String model, String version, Boolean forced) {

    Assignment withVersion(String servedVersion) {
        return new Assignment(layer, bucket, arm, model, servedVersion, forced);
    }
}
