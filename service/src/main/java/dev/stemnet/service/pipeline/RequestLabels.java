package dev.stemnet.service.pipeline;

import java.util.Map;

/** What the pipeline learns about a request that the caller's metrics label it with, failed requests included. */
public interface RequestLabels {

    RequestLabels NONE = new RequestLabels() {
        @Override
        public void arms(Map<String, String> armByLayer) {}

        @Override
        public void model(String name, String version) {}
    };

    /** Experiment arm by layer, forced arms left out. */
    void arms(Map<String, String> armByLayer);

    /** The model version that scores the request. */
    void model(String name, String version);
}
