package dev.stemnet.service;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.stemnet.service.bundle.InvalidBundleException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.context.properties.bind.validation.BindValidationException;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;

/** A bundle that fails its checks, or none at all, stops the application from starting. */
@ExtendWith(OutputCaptureExtension.class)
class StartupFailureTest {

    @Test
    void refusesToStartWithATamperedBundleAndSaysWhichFile(@TempDir Path temp, CapturedOutput output) throws IOException {
        Path bundle = TestBundle.copyTo(temp);
        Files.writeString(bundle.resolve("vocab/device.txt"), "tampered\n", StandardOpenOption.APPEND);

        assertThatThrownBy(() -> start("--stem.bundle.dir=" + bundle))
                .rootCause()
                .isInstanceOf(InvalidBundleException.class)
                .hasMessageContaining("vocab/device.txt");
        assertThat(output).contains("The model bundle was refused: vocab/device.txt");
    }

    @Test
    void refusesToStartWithoutABundleDirectory(CapturedOutput output) {
        assertThatThrownBy(StartupFailureTest::start).hasRootCauseInstanceOf(BindValidationException.class);
        assertThat(output).contains("Property: stem.bundle.dir").contains("must not be null");
    }

    private static void start(String... args) {
        String[] withRandomPort = Stream.concat(Stream.of("--server.port=0"), Stream.of(args)).toArray(String[]::new);
        SpringApplication.run(StemNetServiceApplication.class, withRandomPort).close();
    }
}
