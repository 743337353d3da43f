package dev.stemnet.service.experiment;

import java.util.SortedMap;

/** What the experiments need to know of the models: which serve now, and in which version. */
@FunctionalInterface
public interface ServingVersions {

    /** Serving version by model name. */
    SortedMap<String, String> byModel();
}
