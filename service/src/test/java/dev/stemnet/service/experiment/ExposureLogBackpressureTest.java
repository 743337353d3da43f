package dev.stemnet.service.experiment;

import static org.assertj.core.api.Assertions.assertThat;

import dev.stemnet.service.ServiceOverHttp;
import dev.stemnet.service.TestBundle;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.springframework.http.MediaType;
import org.springframework.test.annotation.DirtiesContext;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import tools.jackson.databind.json.JsonMapper;

/**
 * A stuck exposure-log writer (a hung disk or network mount) must cost exposure records, counted, never requests.
 * The writer is really stuck: its first file is a named pipe with no reader, so opening it blocks the writer thread
 * in the kernel, as a hung mount would, until the test opens the other end.
 */
// Its own writer is left blocked until the test unblocks it: no other test may share this context.
@DirtiesContext
class ExposureLogBackpressureTest extends ServiceOverHttp {

    private static final int QUEUE_CAPACITY = 4;
    private static final int REQUESTS = 60;
    private static final JsonMapper JSON = JsonMapper.builder().build();
    private static final Path EXPOSURES = createExposureDirectory();

    @DynamicPropertySource
    static void properties(DynamicPropertyRegistry properties) {
        properties.add("stem.models.repository", () -> TestBundle.repository().toString());
        properties.add("stem.experiments.exposure-log.dir", EXPOSURES::toString);
        properties.add("stem.experiments.exposure-log.queue-capacity", () -> String.valueOf(QUEUE_CAPACITY));
    }

    @Test
    void aBlockedWriterDropsAndCountsRecordsPastTheQueueWhileEveryRequestIsAnswered() throws Exception {
        // Made after the log scanned its directory at startup (an existing file would be skipped, not opened):
        // the first record's file is this pipe.
        Path pipe = makeNamedPipe(EXPOSURES.resolve("exposures-00000001.jsonl"));

        List<String> requestIds = IntStream.range(0, REQUESTS).mapToObj(i -> "backpressure-%02d".formatted(i)).toList();
        for (String requestId : requestIds) {
            client.post().uri("/v1/score").contentType(MediaType.APPLICATION_JSON)
                    .body("""
                            {"requestId": "%s", "userId": "u1", "candidates": [{"itemId": "a1"}]}""".formatted(requestId))
                    .exchange()
                    .expectStatus().isOk();
        }

        // The writer holds at most the first record (blocked opening the pipe); the queue holds the next ones.
        assertThat(metric("stem_exposures_queued")).isEqualTo(QUEUE_CAPACITY);
        double dropped = metric("stem_exposures_dropped_total{reason=\"queue_full\"}");
        assertThat(dropped).isBetween((double) REQUESTS - QUEUE_CAPACITY - 1, (double) REQUESTS - QUEUE_CAPACITY);
        int kept = REQUESTS - (int) dropped;

        // Opening the read end unblocks the writer: exactly the records that were not counted as dropped come out,
        // the earliest requests in order (a full queue drops the newest).
        List<String> writtenIds = CompletableFuture.supplyAsync(() -> readLines(pipe, kept)).get(30, TimeUnit.SECONDS)
                .stream().map(line -> JSON.readTree(line).get("requestId").asString()).toList();
        assertThat(writtenIds).isEqualTo(requestIds.subList(0, kept));
        assertThat(metric("stem_exposures_written_total")).isEqualTo(kept);
        assertThat(metric("stem_exposures_written_total") + dropped).isEqualTo(REQUESTS);
    }

    /** The value of the one sample whose name and labels are exactly {@code sample}. */
    private double metric(String sample) {
        List<Double> values = scrapeMetrics().text().lines()
                .filter(line -> line.startsWith(sample + " "))
                .map(line -> Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1)))
                .toList();
        assertThat(values).as("samples of %s", sample).hasSize(1);
        return values.get(0);
    }

    private static List<String> readLines(Path pipe, int count) {
        try (BufferedReader reader = Files.newBufferedReader(pipe)) {
            List<String> lines = new ArrayList<>();
            while (lines.size() < count) {
                String line = reader.readLine();
                if (line == null) {
                    break;
                }
                lines.add(line);
            }
            return lines;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static Path makeNamedPipe(Path path) throws IOException, InterruptedException {
        Process mkfifo = new ProcessBuilder("mkfifo", path.toString()).redirectErrorStream(true).start();
        String output = new String(mkfifo.getInputStream().readAllBytes());
        assertThat(mkfifo.waitFor()).as("mkfifo %s (POSIX; this test needs it): %s", path, output).isZero();
        return path;
    }

    private static Path createExposureDirectory() {
        try {
            return Files.createTempDirectory("stem-exposure-backpressure");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
