package dev.stemnet.service.api;

import static org.assertj.core.api.Assertions.assertThat;

import dev.stemnet.service.RunningServiceTest;
import dev.stemnet.service.TestBundle;
import org.junit.jupiter.api.Test;
import org.springframework.http.MediaType;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

class ModelsAndHealthApiTest extends RunningServiceTest {

    private static final JsonMapper JSON = JsonMapper.builder().build();

    @Test
    void describesTheLoadedModel() {
        JsonNode manifest = JSON.readTree(TestBundle.directory().resolve("manifest.json"));

        String models = client.get().uri("/v1/models").exchange()
                .expectStatus().isOk()
                .expectBody(String.class).returnResult().getResponseBody();
        JsonNode model = JSON.readTree(models).get("models").get(0);

        assertThat(model.get("name")).isEqualTo(manifest.get("model").get("name"));
        assertThat(model.get("state").asString()).isEqualTo("READY");
        assertThat(model.get("version")).isEqualTo(manifest.get("model").get("version"));
        assertThat(model.get("architecture")).isEqualTo(manifest.get("model").get("architecture"));
        assertThat(model.get("tasks")).isEqualTo(manifest.get("tasks"));
        assertThat(model.get("metrics")).isEqualTo(manifest.get("metrics"));
        assertThat(model.get("precision").asString()).isEqualTo("fp32");
        assertThat(model.get("parityTolerance").asDouble()).isEqualTo(1e-5);
        assertThat(model.get("fields").size()).isEqualTo(manifest.get("fields").size());
        JsonNode firstTable = model.get("tables").get(0);
        JsonNode firstManifestTable = manifest.get("tables").get(0);
        assertThat(firstTable.get("name")).isEqualTo(firstManifestTable.get("name"));
        assertThat(firstTable.get("rows")).isEqualTo(firstManifestTable.get("rows"));
        assertThat(firstTable.get("fields").size()).isEqualTo(firstManifestTable.get("fields").size());
        assertThat(model.get("load").get("loadMillis").asLong()).isNotNegative();
        assertThat(model.get("load").get("loadedAt").asString()).isNotBlank();
        assertThat(model.get("load").has("bundleDir")).as("paths are for the admin endpoint only").isFalse();
        assertThat(models).doesNotContain(TestBundle.repository().toString());

        JsonNode runtime = model.get("runtime");
        assertThat(runtime.get("device").asString()).isIn("CUDA", "CPU");
        if (runtime.get("device").asString().equals("CPU")) {
            // A code, not the reason: ONNX Runtime's messages name library paths (/tmp/onnxruntime-java.../*.so).
            assertThat(runtime.get("cudaUnavailable").asString()).isIn("configured", "no_driver", "cuda_provider_failed");
        }
        assertThat(runtime.has("cudaUnavailableReason")).isFalse();
    }

    @Test
    void isHealthyAndReadyWithTheModelLoadedOnTheManagementPort() {
        management.get().uri("/actuator/health").exchange()
                .expectStatus().isOk()
                .expectBody()
                .jsonPath("$.status").isEqualTo("UP")
                .jsonPath("$.components.model.status").isEqualTo("UP");
        management.get().uri("/actuator/health/readiness").exchange()
                .expectStatus().isOk()
                .expectBody()
                .jsonPath("$.status").isEqualTo("UP")
                .jsonPath("$.components.model.status").isEqualTo("UP");
        management.get().uri("/actuator/health/model").exchange().expectStatus().isOk();
        management.get().uri("/actuator/health/readiness/model").exchange().expectStatus().isOk();
    }

    @Test
    void exposesNoActuatorOnThePublicPortAndNoScoringOnTheManagementPort() {
        client.get().uri("/actuator/health").exchange().expectStatus().isNotFound();
        client.post().uri("/actuator/models").header("Authorization", "Bearer " + ADMIN_TOKEN).exchange()
                .expectStatus().isNotFound();
        management.post().uri("/v1/score").header("Authorization", "Bearer " + ADMIN_TOKEN)
                .contentType(MediaType.APPLICATION_JSON).body("{}").exchange()
                .expectStatus().isNotFound();
    }

    @Test
    void admitsAdminCallsOnlyWithTheBearerToken() {
        management.get().uri("/actuator/models").exchange()
                .expectStatus().isUnauthorized()
                .expectHeader().valueEquals("WWW-Authenticate", "Bearer realm=\"stem-net-admin\"");
        management.get().uri("/actuator/models").header("Authorization", "Bearer wrong").exchange()
                .expectStatus().isUnauthorized();
        management.post().uri("/actuator/drain").exchange().expectStatus().isUnauthorized();

        management.get().uri("/actuator/models").header("Authorization", "Bearer " + ADMIN_TOKEN).exchange()
                .expectStatus().isOk()
                .expectBody()
                .jsonPath("$.defaultModel").isEqualTo("stem-net")
                .jsonPath("$.versions[0].state").isEqualTo("READY")
                .jsonPath("$.versions[0].cudaUnavailableReason").value(String.class,
                        reason -> assertThat(reason).isNotBlank())
                .jsonPath("$.versions[0].directory").value(String.class,
                        directory -> assertThat(directory).startsWith(TestBundle.repository().toString()))
                .jsonPath("$.lastAttempts[0].outcome").isEqualTo("LOADED");
    }
}
