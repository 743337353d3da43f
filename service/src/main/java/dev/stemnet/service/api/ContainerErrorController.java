package dev.stemnet.service.api;

import jakarta.servlet.DispatcherType;
import jakarta.servlet.RequestDispatcher;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import org.springframework.boot.webmvc.error.ErrorController;
import org.springframework.http.HttpMethod;
import org.springframework.http.HttpStatus;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RestController;
import org.springframework.web.servlet.resource.NoResourceFoundException;

/**
 * The error page Tomcat forwards to when it fails a request on its own after the application has seen it (the
 * body ended before its Content-Length, broken chunked encoding), in place of Spring Boot's
 * {@code BasicErrorController}: problem+json like every other error. Errors the application raises never get
 * here; {@link ApiExceptionHandler} answers those.
 */
@RestController
class ContainerErrorController implements ErrorController {

    @RequestMapping("${server.error.path:/error}")
    void error(HttpServletRequest request, HttpServletResponse response) throws IOException, NoResourceFoundException {
        // Only an error dispatch has a status to report; asked for directly, the error page is just not a resource.
        if (request.getDispatcherType() != DispatcherType.ERROR) {
            throw new NoResourceFoundException(HttpMethod.valueOf(request.getMethod()), request.getRequestURI(),
                    request.getRequestURI().substring(1));
        }
        Object status = request.getAttribute(RequestDispatcher.ERROR_STATUS_CODE);
        int code = status instanceof Integer known ? known : HttpStatus.INTERNAL_SERVER_ERROR.value();
        ProblemBodies.write(response, code, ProblemBodies.containerErrorDetail(code),
                (String) request.getAttribute(RequestDispatcher.ERROR_REQUEST_URI));
    }
}
