package dev.stemnet.service.metrics;

import dev.stemnet.service.pipeline.RequestLabels;
import jakarta.servlet.http.HttpServletRequest;
import java.util.Map;

/**
 * What a handler learns about a request that its metrics need: the model version it ran on, and an outcome
 * when the status alone does not tell (a 503 can be a model not ready or a store unavailable).
 */
public final class RequestTags {

    static final String MODEL = RequestTags.class.getName() + ".model";
    static final String VERSION = RequestTags.class.getName() + ".version";
    static final String OUTCOME = RequestTags.class.getName() + ".outcome";
    static final String ARMS = RequestTags.class.getName() + ".arms";
    static final String SHED_REASON = RequestTags.class.getName() + ".shedReason";

    private RequestTags() {}

    /** The pipeline's labels of a request, kept as attributes of the HTTP request for the metrics filter. */
    public static RequestLabels labels(HttpServletRequest request) {
        return new RequestLabels() {
            @Override
            public void arms(Map<String, String> armByLayer) {
                RequestTags.arms(request, armByLayer);
            }

            @Override
            public void model(String name, String version) {
                RequestTags.model(request, name, version);
            }
        };
    }

    public static void model(HttpServletRequest request, String model, String version) {
        request.setAttribute(MODEL, model);
        request.setAttribute(VERSION, version);
    }

    /** Experiment arm by layer, names from the experiment configuration only: a bounded label set. */
    public static void arms(HttpServletRequest request, Map<String, String> armByLayer) {
        request.setAttribute(ARMS, Map.copyOf(armByLayer));
    }

    /** Why a 429 refused the request: one of a small fixed set. */
    public static void shedReason(HttpServletRequest request, String reason) {
        request.setAttribute(SHED_REASON, reason);
    }

    /** One of a small fixed set, e.g. {@code not_ready} or {@code store_unavailable}. */
    public static void outcome(HttpServletRequest request, String outcome) {
        request.setAttribute(OUTCOME, outcome);
    }
}
