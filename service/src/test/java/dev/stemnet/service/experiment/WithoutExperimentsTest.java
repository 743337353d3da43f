package dev.stemnet.service.experiment;

import dev.stemnet.service.RunningServiceTest;
import org.junit.jupiter.api.Test;
import org.springframework.http.MediaType;

/** Without {@code stem.experiments.config} requests are scored as before and carry no experiment. */
class WithoutExperimentsTest extends RunningServiceTest {

    private static final String BODY = """
            {"userId": "u1", "candidates": [{"itemId": "a1"}]}""";

    @Test
    void scoresWithTheDefaultModelAndAddsNoExperiment() {
        client.post().uri("/v1/score").contentType(MediaType.APPLICATION_JSON).body(BODY).exchange()
                .expectStatus().isOk()
                .expectBody()
                .jsonPath("$.model.name").isEqualTo("stem-net")
                .jsonPath("$.experiment").doesNotExist();
    }

    @Test
    void stillRefusesAForcedArmFromAnUnknownCaller() {
        client.post().uri("/v1/score").contentType(MediaType.APPLICATION_JSON)
                .header(ForcedArms.FORCE_HEADER, "model=control").body(BODY).exchange()
                .expectStatus().isForbidden();
    }
}
