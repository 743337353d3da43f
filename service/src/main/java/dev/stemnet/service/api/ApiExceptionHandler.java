package dev.stemnet.service.api;

import dev.stemnet.service.experiment.ExperimentArmUnavailableException;
import dev.stemnet.service.experiment.ForcedAssignmentForbiddenException;
import dev.stemnet.service.metrics.LogThrottle;
import dev.stemnet.service.metrics.RequestTags;
import dev.stemnet.service.model.ModelNotReadyException;
import dev.stemnet.service.model.UnknownModelException;
import dev.stemnet.service.scoring.DeadlineExceededException;
import dev.stemnet.service.embedding.EmbeddingStoreUnavailableException;
import dev.stemnet.service.scoring.ClientValues;
import dev.stemnet.service.scoring.InvalidRequestException;
import jakarta.servlet.http.HttpServletRequest;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.TreeSet;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.core.NestedExceptionUtils;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import org.springframework.http.HttpStatusCode;
import org.springframework.http.ProblemDetail;
import org.springframework.http.ResponseEntity;
import org.springframework.http.converter.HttpMessageNotReadableException;
import org.springframework.web.bind.MethodArgumentNotValidException;
import org.springframework.web.bind.annotation.ExceptionHandler;
import org.springframework.web.bind.annotation.RestControllerAdvice;
import org.springframework.web.context.request.WebRequest;
import org.springframework.web.servlet.mvc.method.annotation.ResponseEntityExceptionHandler;
import tools.jackson.core.JacksonException;
import tools.jackson.core.exc.StreamConstraintsException;
import tools.jackson.core.exc.StreamReadException;
import tools.jackson.databind.exc.UnrecognizedPropertyException;

/**
 * Every error leaves as RFC 7807 {@code application/problem+json}. A 400 names the first offending part of
 * the request in {@code field} and lists every problem in {@code errors}, unless the body is too broken to
 * blame a field; a 500 says nothing about the inside, which goes to the log. Refusals the client should
 * retry (503 model not ready) carry {@code Retry-After}, as the admission filter's 429s do.
 */
@RestControllerAdvice
class ApiExceptionHandler extends ResponseEntityExceptionHandler {

    private static final Logger log = LoggerFactory.getLogger(ApiExceptionHandler.class);
    /** A model load takes a while. (Overload is refused by the admission filter, before any handler.) */
    private static final int MODEL_LOAD_RETRY_SECONDS = 5;
    /** An outage fails every request alike: log the first failure per store and reason, then one line this often. */
    private static final Duration STORE_FAILURE_LOG_INTERVAL = Duration.ofSeconds(10);

    private final LogThrottle storeFailureLog = new LogThrottle(STORE_FAILURE_LOG_INTERVAL, System::nanoTime);

    /** Serialized into the {@code errors} property. */
    record FieldProblem(String field, String message) {}

    @ExceptionHandler(InvalidRequestException.class)
    ResponseEntity<Object> handleInvalidRequest(InvalidRequestException e) {
        return badRequest(List.of(new FieldProblem(e.field(), e.reason())));
    }

    @Override
    protected ResponseEntity<Object> handleMethodArgumentNotValid(
            MethodArgumentNotValidException e, HttpHeaders headers, HttpStatusCode status, WebRequest request) {
        return badRequest(e.getBindingResult().getFieldErrors().stream()
                .map(error -> new FieldProblem(error.getField(), error.getDefaultMessage()))
                .sorted(Comparator.comparing(FieldProblem::field))
                .toList());
    }

    @Override
    protected ResponseEntity<Object> handleHttpMessageNotReadable(
            HttpMessageNotReadableException e, HttpHeaders headers, HttpStatusCode status, WebRequest request) {
        if (NestedExceptionUtils.getMostSpecificCause(e) instanceof RequestTooLargeException tooLarge) {
            return ResponseEntity.status(HttpStatus.CONTENT_TOO_LARGE)
                    .body(ProblemDetail.forStatusAndDetail(HttpStatus.CONTENT_TOO_LARGE, tooLarge.getMessage()));
        }
        Throwable cause = e.getMostSpecificCause();
        if (cause instanceof JacksonException jackson) {
            String field = fieldPath(jackson.getPath());
            String reason = jsonProblem(jackson);
            return field.isEmpty() ? badRequest(reason) : badRequest(List.of(new FieldProblem(field, reason)));
        }
        // Spring raises one without a cause for an empty body; its message names our handler method.
        return badRequest(cause == e ? "request body is missing" : "request body could not be read");
    }

    /** Messages of our own: a mapping error's message names our Java classes, a limit's names Jackson's methods. */
    private static String jsonProblem(JacksonException jackson) {
        if (jackson instanceof UnrecognizedPropertyException unknown) {
            return "unknown key; the keys accepted here are " + new TreeSet<>(unknown.getKnownPropertyIds().stream()
                    .map(String::valueOf)
                    .toList());
        }
        if (jackson instanceof StreamConstraintsException) {
            return "malformed JSON: nested too deeply, or a number, string or key longer than allowed";
        }
        if (jackson instanceof StreamReadException) {
            // A syntax error's message helps the client; it may quote any part of the body, a duplicate key say.
            return "malformed JSON: " + ClientValues.echo(jackson.getOriginalMessage());
        }
        return "value has the wrong JSON type";
    }

    @ExceptionHandler(UnknownModelException.class)
    ResponseEntity<Object> handleUnknownModel(UnknownModelException e) {
        ProblemDetail problem = ProblemDetail.forStatusAndDetail(HttpStatus.NOT_FOUND, e.getMessage());
        problem.setProperty("model", e.model());
        return ResponseEntity.status(HttpStatus.NOT_FOUND).body(problem);
    }

    @ExceptionHandler(ModelNotReadyException.class)
    ResponseEntity<Object> handleModelNotReady(ModelNotReadyException e, HttpServletRequest request) {
        RequestTags.outcome(request, "not_ready");
        return retryLater(HttpStatus.SERVICE_UNAVAILABLE, e.getMessage(), MODEL_LOAD_RETRY_SECONDS);
    }

    @ExceptionHandler(ForcedAssignmentForbiddenException.class)
    ResponseEntity<Object> handleForcedAssignmentForbidden(ForcedAssignmentForbiddenException e, HttpServletRequest request) {
        RequestTags.outcome(request, "forbidden");
        return ResponseEntity.status(HttpStatus.FORBIDDEN)
                .body(ProblemDetail.forStatusAndDetail(HttpStatus.FORBIDDEN, e.getMessage()));
    }

    /** Never scored with another model instead: that would corrupt the experiment. */
    @ExceptionHandler(ExperimentArmUnavailableException.class)
    ResponseEntity<Object> handleExperimentArmUnavailable(ExperimentArmUnavailableException e) {
        log.warn("Experiment arm unavailable: {}", e.getMessage());
        return retryLater(HttpStatus.SERVICE_UNAVAILABLE, e.getMessage(), MODEL_LOAD_RETRY_SECONDS);
    }

    @ExceptionHandler(DeadlineExceededException.class)
    ResponseEntity<Object> handleDeadlineExceeded(DeadlineExceededException e) {
        return ResponseEntity.status(HttpStatus.GATEWAY_TIMEOUT)
                .body(ProblemDetail.forStatusAndDetail(HttpStatus.GATEWAY_TIMEOUT, e.getMessage()));
    }

    /** The store is down, slow or incomplete: a retry (later, or on another replica) may well succeed. */
    @ExceptionHandler(EmbeddingStoreUnavailableException.class)
    ResponseEntity<Object> handleStoreUnavailable(EmbeddingStoreUnavailableException e, HttpServletRequest request) {
        RequestTags.outcome(request, "store_unavailable");
        storeFailureLog.admit(e.store() + "/" + e.reason()).ifPresent(heldBack -> log.warn(
                "Embedding store {} failed for table '{}' ({}): {}{}", e.store(), e.table(), e.reason(), e.getMessage(),
                heldBack == 0 ? "" : " (" + heldBack + " similar failures not logged since the last line)"));
        ProblemDetail problem = ProblemDetail.forStatusAndDetail(HttpStatus.SERVICE_UNAVAILABLE,
                "Embedding rows are unavailable right now; retry later");
        return ResponseEntity.status(HttpStatus.SERVICE_UNAVAILABLE).body(problem);
    }

    @ExceptionHandler(Exception.class)
    ResponseEntity<Object> handleUnexpected(Exception e) {
        log.error("Unexpected error while handling a request", e);
        ProblemDetail problem = ProblemDetail.forStatusAndDetail(HttpStatus.INTERNAL_SERVER_ERROR,
                "Internal error; the service log has the details");
        return ResponseEntity.internalServerError().body(problem);
    }

    private static ResponseEntity<Object> retryLater(HttpStatus status, String detail, int seconds) {
        return ResponseEntity.status(status)
                .header(HttpHeaders.RETRY_AFTER, Integer.toString(seconds))
                .body(ProblemDetail.forStatusAndDetail(status, detail));
    }

    private static ResponseEntity<Object> badRequest(List<FieldProblem> problems) {
        ProblemDetail problem = ProblemDetail.forStatusAndDetail(HttpStatus.BAD_REQUEST, problems.stream()
                .map(p -> p.field() + ": " + p.message())
                .collect(Collectors.joining("; ")));
        problem.setProperty("field", problems.get(0).field());
        problem.setProperty("errors", problems);
        return ResponseEntity.badRequest().body(problem);
    }

    /** For a body so broken that no field can be blamed. */
    private static ResponseEntity<Object> badRequest(String detail) {
        return ResponseEntity.badRequest().body(ProblemDetail.forStatusAndDetail(HttpStatus.BAD_REQUEST, detail));
    }

    /** Jackson's path to the bad value in the notation of bean validation: {@code candidates[2].features}. */
    private static String fieldPath(List<JacksonException.Reference> path) {
        StringBuilder field = new StringBuilder();
        for (JacksonException.Reference reference : path) {
            if (reference.getPropertyName() != null) {
                field.append(field.isEmpty() ? "" : ".").append(ClientValues.echo(reference.getPropertyName()));
            } else if (reference.getIndex() >= 0) {
                field.append('[').append(reference.getIndex()).append(']');
            }
        }
        return field.toString();
    }
}
