package dev.stemnet.service.api;

import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.Map;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import tools.jackson.databind.json.JsonMapper;

/**
 * RFC 7807 bodies for the places no Spring MVC handler reaches: a servlet filter, Tomcat's error report valve,
 * and the error page Tomcat forwards its own errors to.
 */
final class ProblemBodies {

    private static final JsonMapper JSON = JsonMapper.builder().build();

    private ProblemBodies() {}

    /** @param instance the request path, or {@code null} when the request could not be parsed */
    static String json(int status, String detail, String instance) {
        HttpStatus known = HttpStatus.resolve(status);
        Map<String, Object> problem = new LinkedHashMap<>();
        problem.put("type", "about:blank");
        problem.put("title", known == null ? "Error" : known.getReasonPhrase());
        problem.put("status", status);
        problem.put("detail", detail);
        if (instance != null) {
            problem.put("instance", instance);
        }
        return JSON.writeValueAsString(problem);
    }

    static void write(HttpServletResponse response, int status, String detail, String instance) throws IOException {
        response.setStatus(status);
        response.setContentType(MediaType.APPLICATION_PROBLEM_JSON_VALUE);
        response.setCharacterEncoding("UTF-8");
        response.getWriter().write(json(status, detail, instance));
    }

    /**
     * What is said about an error Tomcat raised itself: a fixed sentence by status. Tomcat's own message stays
     * out: it may quote the request, or name Tomcat.
     */
    static String containerErrorDetail(int status) {
        if (status == HttpStatus.BAD_REQUEST.value()) {
            return "the request could not be read as HTTP: a malformed request line or header, headers over the size"
                    + " limit, a body shorter than its Content-Length, or broken chunked encoding";
        }
        return status >= 500 ? "the server could not handle the request" : "the server refused the request";
    }
}
