package dev.stemnet.admin;

import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Set;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.web.filter.OncePerRequestFilter;

/**
 * Requires {@code Authorization: Bearer <stem.admin.token>} on the management port, except for the probes and
 * the metrics scrape, which orchestrators and Prometheus call without credentials. Without a configured
 * token every admin call is refused: an admin endpoint must never be open by accident.
 */
class AdminTokenFilter extends OncePerRequestFilter {

    private static final Set<String> OPEN_PREFIXES = Set.of("/actuator/health", "/actuator/prometheus", "/actuator/info");
    private static final String BEARER = "Bearer ";

    private final byte[] token;

    AdminTokenFilter(String token) {
        this.token = token == null || token.isBlank() ? null : token.getBytes(StandardCharsets.UTF_8);
    }

    @Override
    protected boolean shouldNotFilter(HttpServletRequest request) {
        String path = request.getRequestURI();
        return OPEN_PREFIXES.stream().anyMatch(path::startsWith);
    }

    @Override
    protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
            throws ServletException, IOException {
        if (authorized(request.getHeader(HttpHeaders.AUTHORIZATION))) {
            chain.doFilter(request, response);
            return;
        }
        response.setStatus(HttpStatus.UNAUTHORIZED.value());
        response.setHeader(HttpHeaders.WWW_AUTHENTICATE, "Bearer realm=\"stem-net-admin\"");
        response.setContentType(MediaType.APPLICATION_PROBLEM_JSON_VALUE);
        response.getWriter().write(token == null
                ? "{\"title\":\"Unauthorized\",\"status\":401,\"detail\":\"admin endpoints are disabled: stem.admin.token is not set\"}"
                : "{\"title\":\"Unauthorized\",\"status\":401,\"detail\":\"a valid bearer token is required\"}");
    }

    private boolean authorized(String header) {
        if (token == null || header == null || !header.startsWith(BEARER)) {
            return false;
        }
        // Constant time, so the comparison does not leak how much of a guess was right.
        return MessageDigest.isEqual(token, header.substring(BEARER.length()).getBytes(StandardCharsets.UTF_8));
    }
}
