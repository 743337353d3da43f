package dev.stemnet.service;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.stemnet.service.model.LoadAttempt;
import dev.stemnet.service.model.ModelRegistry;
import dev.stemnet.service.model.ModelRepository;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.context.properties.bind.validation.BindValidationException;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * A tampered bundle does not serve but leaves the service up, not ready, saying which file; a missing
 * repository setting stops the start.
 */
@ExtendWith(OutputCaptureExtension.class)
class StartupFailureTest {

    @Test
    void rejectsATamperedBundleSaysWhichFileAndStaysNotReady(@TempDir Path repository, CapturedOutput output)
            throws IOException {
        Path bundle = TestBundle.copyTo(repository.resolve("stem-net"));
        Files.writeString(bundle.resolve("vocab/device.txt"), "tampered\n", StandardOpenOption.APPEND);

        try (ConfigurableApplicationContext context = start("--stem.models.repository=" + repository)) {
            ModelRepository models = context.getBean(ModelRepository.class);
            assertThat(Polling.until(Duration.ofSeconds(30), () -> !models.lastAttempts().isEmpty())).isTrue();

            LoadAttempt attempt = models.lastAttempts().get(0);
            assertThat(attempt.outcome()).isEqualTo(LoadAttempt.Outcome.REJECTED);
            assertThat(attempt.error()).contains("vocab/device.txt");
            assertThat(context.getBean(ModelRegistry.class).isServing("stem-net")).isFalse();
            assertThat(output).contains("Rejected the bundle in").contains("vocab/device.txt");
        }
    }

    @Test
    void refusesToStartWithoutARepository(CapturedOutput output) {
        assertThatThrownBy(StartupFailureTest::start).hasRootCauseInstanceOf(BindValidationException.class);
        assertThat(output).contains("Property: stem.models.repository").contains("must not be null");
    }

    private static ConfigurableApplicationContext start(String... args) {
        String[] withRandomPorts = Stream.concat(Stream.of("--server.port=0", "--management.server.port=0"), Stream.of(args))
                .toArray(String[]::new);
        return SpringApplication.run(StemNetServiceApplication.class, withRandomPorts);
    }
}
