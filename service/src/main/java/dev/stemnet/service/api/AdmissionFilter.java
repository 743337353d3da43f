package dev.stemnet.service.api;

import dev.stemnet.service.config.StemProperties;
import dev.stemnet.service.experiment.ForcedArms;
import dev.stemnet.service.metrics.RequestTags;
import dev.stemnet.service.pipeline.Admission;
import dev.stemnet.service.pipeline.OverloadedException;
import dev.stemnet.service.pipeline.Priority;
import dev.stemnet.service.pipeline.ScoringPipeline;
import dev.stemnet.service.scoring.Deadline;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.time.Duration;
import org.springframework.core.Ordered;
import org.springframework.core.annotation.Order;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import org.springframework.stereotype.Component;
import org.springframework.web.filter.OncePerRequestFilter;

/**
 * Admits or refuses a scoring request on arrival, from its headers alone: a refusal (429, {@code Retry-After})
 * costs no body read, no parsing and no scoring slot. The deadline starts at the request's arrival
 * ({@link ArrivalTimeValve}); a body still being read when it passes is cut off with 504 and never scored. Runs just
 * inside the request metrics filter, so refusals are timed and counted like every other outcome.
 */
@Component
@Order(Ordered.HIGHEST_PRECEDENCE + 1)
class AdmissionFilter extends OncePerRequestFilter {

    private static final String TICKET = AdmissionFilter.class.getName() + ".ticket";
    private static final String OVERLOAD_RETRY_SECONDS = "1";

    private final ScoringPipeline pipeline;
    private final Duration deadline;

    AdmissionFilter(ScoringPipeline pipeline, StemProperties properties) {
        this.pipeline = pipeline;
        this.deadline = properties.scoring().deadline();
    }

    /** The ticket the filter admitted the request with. */
    static Admission.Ticket ticket(HttpServletRequest request) {
        if (request.getAttribute(TICKET) instanceof Admission.Ticket ticket) {
            return ticket;
        }
        throw new IllegalStateException("the request did not pass the admission filter");
    }

    @Override
    protected boolean shouldNotFilter(HttpServletRequest request) {
        return !("POST".equals(request.getMethod()) && "/v1/score".equals(request.getRequestURI()));
    }

    @Override
    protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
            throws ServletException, IOException {
        Deadline requestDeadline = Deadline.since(ArrivalTimeValve.arrivalNanos(request), deadline);
        Priority priority = request.getHeader(ForcedArms.FORCE_HEADER) != null ? Priority.QA : Priority.SERVING;
        Admission.Ticket ticket;
        try {
            ticket = pipeline.admit(requestDeadline, priority);
        } catch (OverloadedException e) {
            RequestTags.shedReason(request, e.reason().label());
            response.setHeader(HttpHeaders.RETRY_AFTER, OVERLOAD_RETRY_SECONDS);
            ProblemBodies.write(response, HttpStatus.TOO_MANY_REQUESTS.value(), e.getMessage(), request.getRequestURI());
            // Sent now: Tomcat would otherwise first read (swallow) the unread body, which may still be on its way.
            response.flushBuffer();
            return;
        }
        try (ticket) {
            request.setAttribute(TICKET, ticket);
            // A client that stalls outright is cut by Tomcat's connection timeout; one that trickles, here.
            chain.doFilter(new CheckedBody(request, new CheckedBody.Check() {
                @Override
                public void beforeRead() {
                    requestDeadline.check("the request body was read");
                }
            }), response);
        }
    }
}
