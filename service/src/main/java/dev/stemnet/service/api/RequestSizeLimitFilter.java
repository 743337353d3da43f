package dev.stemnet.service.api;

import dev.stemnet.service.config.StemProperties;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import org.springframework.http.HttpStatus;
import org.springframework.stereotype.Component;
import org.springframework.web.filter.OncePerRequestFilter;

/**
 * Refuses request bodies over {@code stem.scoring.max-body-size} with 413 before they are parsed: at once
 * when Content-Length says so, otherwise (chunked) as soon as the reader passes the limit.
 */
@Component
class RequestSizeLimitFilter extends OncePerRequestFilter {

    private final long maxBytes;

    RequestSizeLimitFilter(StemProperties properties) {
        this.maxBytes = properties.scoring().maxBodySize().toBytes();
    }

    @Override
    protected boolean shouldNotFilter(HttpServletRequest request) {
        return !request.getRequestURI().startsWith("/v1/");
    }

    @Override
    protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
            throws ServletException, IOException {
        if (request.getContentLengthLong() > maxBytes) {
            // Written here, not by the exception handler: no handler has been chosen yet. The body is left unread;
            // Tomcat reads and drops it after the response, up to server.tomcat.max-swallow-size, so that a client
            // that sends all of it before reading still gets to read this.
            ProblemBodies.write(response, HttpStatus.CONTENT_TOO_LARGE.value(),
                    new RequestTooLargeException(maxBytes).getMessage(), request.getRequestURI());
            return;
        }
        chain.doFilter(new CheckedBody(request, new CheckedBody.Check() {
            @Override
            public void afterRead(long bytesSoFar) throws RequestTooLargeException {
                if (bytesSoFar > maxBytes) {
                    throw new RequestTooLargeException(maxBytes);
                }
            }
        }), response);
    }
}
