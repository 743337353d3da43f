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
import jakarta.servlet.ReadListener;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletInputStream;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletRequestWrapper;
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
            chain.doFilter(new BodyWithinDeadline(request, requestDeadline), response);
        }
    }

    private static final class BodyWithinDeadline extends HttpServletRequestWrapper {
        private final Deadline deadline;
        private ServletInputStream body;

        BodyWithinDeadline(HttpServletRequest request, Deadline deadline) {
            super(request);
            this.deadline = deadline;
        }

        @Override
        public ServletInputStream getInputStream() throws IOException {
            if (body == null) {
                body = new DeadlineCheckedStream(super.getInputStream(), deadline);
            }
            return body;
        }
    }

    /** Checks the deadline before each read; a client that stalls outright is cut by Tomcat's connection timeout. */
    private static final class DeadlineCheckedStream extends ServletInputStream {
        private final ServletInputStream in;
        private final Deadline deadline;

        DeadlineCheckedStream(ServletInputStream in, Deadline deadline) {
            this.in = in;
            this.deadline = deadline;
        }

        @Override
        public int read() throws IOException {
            checkDeadline();
            return in.read();
        }

        @Override
        public int read(byte[] buffer, int offset, int length) throws IOException {
            checkDeadline();
            return in.read(buffer, offset, length);
        }

        private void checkDeadline() {
            deadline.check("the request body was read");
        }

        @Override
        public boolean isFinished() {
            return in.isFinished();
        }

        @Override
        public boolean isReady() {
            return in.isReady();
        }

        @Override
        public void setReadListener(ReadListener listener) {
            in.setReadListener(listener);
        }
    }
}
