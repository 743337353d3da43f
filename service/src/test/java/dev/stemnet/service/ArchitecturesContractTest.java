package dev.stemnet.service;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * The contract test for every architecture the trainer has (Single-Task, MMoE, PLE, ESMM, AITM, ...): one
 * service serves a tiny bundle of each, and each bundle's fixtures, posted over HTTP to the model of that name,
 * get PyTorch's scores. The service knows nothing of architectures; this proves it needs not.
 */
class ArchitecturesContractTest extends ServiceOverHttp {

    private static final JsonMapper JSON = JsonMapper.builder().build();

    /**
     * Every architecture the trainer registers, STEM-Net trained by 2 data-parallel ranks (torchrun), and STEM-Net on
     * a user's own data with a context field and missing values as a category (its fixtures send contextFeatures and
     * leave features out); a bundle missing from the repository fails the test.
     */
    private static final List<String> ARCHITECTURES = List.of("single_task", "shared_bottom", "omoe", "mmoe", "ple",
            "me_mmoe", "me_ple", "stem_net", "stem_net_user_side", "stem_net_item_side", "esmm", "aitm",
            "stem_net_2_ranks", "stem_net_user_data");

    // Not a RunningServiceTest: that one serves the shared test repository.
    @DynamicPropertySource
    static void serveEveryArchitecture(DynamicPropertyRegistry registry) {
        registry.add("stem.models.repository", () -> TestBundle.architecturesRepository().toString());
        registry.add("stem.models.default", () -> "stem_net");
    }

    @TestFactory
    Stream<DynamicTest> servesPyTorchsScoresForEveryArchitecture() {
        Path repository = TestBundle.architecturesRepository();
        assertThat(bundleNames(repository)).containsExactlyInAnyOrderElementsOf(ARCHITECTURES);
        // Readiness waits for the default model only; the others load one after another in the background.
        assertThat(Polling.until(Duration.ofSeconds(120), () -> servingModels().containsAll(ARCHITECTURES)))
                .as("every architecture serving within 120 s, serving: %s", servingModels()).isTrue();
        return ARCHITECTURES.stream().map(architecture -> DynamicTest.dynamicTest(architecture,
                () -> ParityCheck.assertServesFixtureScores(client, repository.resolve(architecture), architecture)));
    }

    private List<String> servingModels() {
        JsonNode models = JSON.readTree(client.get().uri("/v1/models").exchange().expectStatus().isOk()
                .expectBody(String.class).returnResult().getResponseBody()).get("models");
        List<String> names = new ArrayList<>();
        models.forEach(model -> names.add(model.get("name").asString()));
        return names;
    }

    private static List<String> bundleNames(Path repository) {
        try (Stream<Path> bundles = Files.list(repository)) {
            return bundles.filter(Files::isDirectory).map(path -> path.getFileName().toString()).sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
