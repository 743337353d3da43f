package dev.stemnet.service.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.springframework.core.Ordered;
import org.springframework.core.annotation.Order;
import org.springframework.stereotype.Component;
import org.springframework.web.filter.OncePerRequestFilter;

/**
 * Times every {@code /v1/*} request by endpoint, model, version and outcome, refused ones included, and
 * counts shed requests. Outermost, so that it also sees requests refused before they reach a controller.
 */
@Component
@Order(Ordered.HIGHEST_PRECEDENCE)
public class RequestMetricsFilter extends OncePerRequestFilter {

    private static final Map<String, String> ENDPOINTS = Map.of("/v1/score", "score", "/v1/models", "models");
    private static final String NONE = "none";

    private final MeterRegistry registry;

    public RequestMetricsFilter(MeterRegistry registry) {
        this.registry = registry;
    }

    @Override
    protected boolean shouldNotFilter(HttpServletRequest request) {
        return !request.getRequestURI().startsWith("/v1/");
    }

    @Override
    protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
            throws ServletException, IOException {
        long started = System.nanoTime();
        try {
            chain.doFilter(request, response);
        } finally {
            String outcome = outcome(request, response.getStatus());
            Timer.builder("stem.requests")
                    .description("Requests by endpoint, model, version and outcome")
                    .tag("endpoint", ENDPOINTS.getOrDefault(request.getRequestURI(), "other"))
                    .tag("model", attribute(request, RequestTags.MODEL))
                    .tag("version", attribute(request, RequestTags.VERSION))
                    .tag("outcome", outcome)
                    .publishPercentileHistogram()
                    .register(registry)
                    .record(System.nanoTime() - started, TimeUnit.NANOSECONDS);
            recordPerArm(request, outcome, System.nanoTime() - started);
            if (outcome.equals("shed") || outcome.equals("deadline")) {
                Counter.builder("stem.requests.shed")
                        .description("Requests refused on arrival (queue_full, deadline_estimate, qa) or given up at the"
                                + " deadline (deadline)")
                        .tag("reason", outcome.equals("shed") ? attribute(request, RequestTags.SHED_REASON) : "deadline")
                        .register(registry)
                        .increment();
            }
        }
    }

    /** Once per layer the request was assigned in, so a dashboard can compare arms' traffic share and latency. */
    private void recordPerArm(HttpServletRequest request, String outcome, long nanos) {
        if (request.getAttribute(RequestTags.ARMS) instanceof Map<?, ?> arms) {
            arms.forEach((layer, arm) -> Timer.builder("stem.experiment.requests")
                    .description("Requests by experiment layer, arm and outcome; forced arms are not counted")
                    .tag("layer", layer.toString()).tag("arm", arm.toString()).tag("outcome", outcome)
                    .publishPercentileHistogram()
                    .register(registry)
                    .record(nanos, TimeUnit.NANOSECONDS));
        }
    }

    private static String outcome(HttpServletRequest request, int status) {
        Object marked = request.getAttribute(RequestTags.OUTCOME);
        if (marked != null) {
            return marked.toString();
        }
        return switch (status) {
            case 200 -> "ok";
            case 404 -> "unknown_model";
            case 429 -> "shed";
            case 503 -> "unavailable";
            case 504 -> "deadline";
            default -> status >= 400 && status < 500 ? "bad_request" : status >= 500 ? "error" : "ok";
        };
    }

    private static String attribute(HttpServletRequest request, String name) {
        Object value = request.getAttribute(name);
        return value == null ? NONE : value.toString();
    }
}
