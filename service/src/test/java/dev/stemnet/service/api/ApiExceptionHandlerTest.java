package dev.stemnet.service.api;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.springframework.http.HttpStatus;
import org.springframework.http.ProblemDetail;
import org.springframework.http.ResponseEntity;

class ApiExceptionHandlerTest {

    @Test
    void anUnexpectedErrorBecomesA500ThatKeepsTheInsideToItself() {
        ResponseEntity<Object> response = new ApiExceptionHandler()
                .handleUnexpected(new IllegalStateException("secret detail at dev.stemnet.Internal"));

        assertThat(response.getStatusCode()).isEqualTo(HttpStatus.INTERNAL_SERVER_ERROR);
        ProblemDetail problem = (ProblemDetail) response.getBody();
        assertThat(problem.getStatus()).isEqualTo(500);
        assertThat(problem.getDetail()).doesNotContain("secret").doesNotContain("dev.stemnet");
    }
}
