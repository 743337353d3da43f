package dev.stemnet.service.model;

import static org.assertj.core.api.Assertions.assertThat;

import dev.stemnet.service.TestBundle;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalManagementPort;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.http.MediaType;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.springframework.test.web.servlet.client.RestTestClient;

/** The service starts without its default model, is not ready, and becomes ready once the model is warm. */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
class ReadinessTest {

    private static final String TOKEN = "readiness-token";
    private static final Path EMPTY_REPOSITORY = TestBundle.emptyRepository("stem-empty-repository");

    @LocalServerPort
    private int port;

    @LocalManagementPort
    private int managementPort;

    @DynamicPropertySource
    static void properties(DynamicPropertyRegistry properties) {
        properties.add("stem.models.repository", EMPTY_REPOSITORY::toString);
        properties.add("management.server.port", () -> "0");
        properties.add("stem.admin.token", () -> TOKEN);
    }

    @Test
    void isNotReadyAndAnswers503UntilTheDefaultModelIsLoadedAndWarm() {
        RestTestClient client = RestTestClient.bindToServer().baseUrl("http://localhost:" + port).build();
        RestTestClient management = RestTestClient.bindToServer().baseUrl("http://localhost:" + managementPort).build();

        management.get().uri("/actuator/health/liveness").exchange().expectStatus().isOk();
        management.get().uri("/actuator/health/readiness").exchange().expectStatus().isEqualTo(503)
                .expectBody().jsonPath("$.components.model.status").isEqualTo("OUT_OF_SERVICE");
        client.post().uri("/v1/score").contentType(MediaType.APPLICATION_JSON)
                .body("{\"userId\": \"u1\", \"candidates\": [{\"itemId\": \"a1\"}]}").exchange()
                .expectStatus().isEqualTo(503)
                .expectHeader().valueEquals("Retry-After", "5")
                .expectHeader().contentTypeCompatibleWith(MediaType.APPLICATION_PROBLEM_JSON);

        TestBundle.copyTo(EMPTY_REPOSITORY.resolve("stem-net"));
        management.post().uri("/actuator/models").header("Authorization", "Bearer " + TOKEN).exchange()
                .expectStatus().isOk();

        management.get().uri("/actuator/health/readiness").exchange().expectStatus().isOk();
        client.post().uri("/v1/score").contentType(MediaType.APPLICATION_JSON)
                .body("{\"userId\": \"u1\", \"candidates\": [{\"itemId\": \"a1\"}]}").exchange()
                .expectStatus().isOk();
    }
}
