package dev.stemnet.service.experiment;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.stemnet.service.Polling;
import dev.stemnet.service.scoring.CandidateScores;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

class ExposureLogTest {

    private static final JsonMapper JSON = JsonMapper.builder().build();
    private static final Duration FLUSH_INTERVAL = Duration.ofSeconds(1);
    /** Far fewer lines than fill the writer's buffer (64 KiB), which would flush it whatever the interval. */
    private static final int BUSY_RECORDS = 20;

    @TempDir
    Path directory;

    private final MeterRegistry registry = new SimpleMeterRegistry();

    @Test
    void writesOneJsonLinePerRecordWithEveryField() throws IOException {
        ExposureLog exposures = exposureLog(1 << 20, 5, 100, registry);
        exposures.start();
        exposures.record(record("r1"));
        exposures.close();

        List<Path> files = ExposureLog.exposureFiles(directory);
        assertThat(files).extracting(file -> file.getFileName().toString()).containsExactly("exposures-00000001.jsonl");
        List<String> lines = Files.readAllLines(files.get(0));
        assertThat(lines).hasSize(1);
        JsonNode line = JSON.readTree(lines.get(0));
        assertThat(Instant.parse(line.get("time").asString())).isNotNull();
        assertThat(line.get("requestId").asString()).isEqualTo("r1");
        assertThat(line.get("unitId").asString()).isEqualTo("u42");
        assertThat(line.get("configVersion").asString()).isEqualTo("v1");
        assertThat(line.get("model").asString()).isEqualTo("stem-net");
        assertThat(line.get("modelVersion").asString()).isEqualTo("20261124T201228Z");
        JsonNode assignment = line.get("assignments").get(0);
        assertThat(assignment.get("layer").asString()).isEqualTo("model");
        assertThat(assignment.get("bucket").asInt()).isEqualTo(17);
        assertThat(assignment.get("arm").asString()).isEqualTo("treatment");
        assertThat(assignment.has("forced")).isFalse();
        JsonNode item = line.get("items").get(1);
        assertThat(item.get("itemId").asString()).isEqualTo("a2");
        assertThat(item.get("scores").get("pay").asDouble()).isEqualTo(0.003);
        assertThat(registry.get("stem.exposures.written").counter().count()).isEqualTo(1);
    }

    @Test
    void startsANewFileBeforeOneWouldPassTheSizeLimitAndKeepsTheNewestFiles() throws IOException {
        int lineLength = line("r00").length;
        // Three records fit in a file, a fourth would pass the limit.
        ExposureLog exposures = exposureLog(3L * lineLength + lineLength / 2, 2, 100, registry);
        exposures.start();
        for (int i = 0; i < 10; i++) {
            exposures.record(record("r%02d".formatted(i)));
        }
        exposures.close();

        // 10 records, 3 per file: files 1 to 4; the two newest are kept.
        List<Path> files = ExposureLog.exposureFiles(directory);
        assertThat(files).extracting(file -> file.getFileName().toString())
                .containsExactly("exposures-00000003.jsonl", "exposures-00000004.jsonl");
        assertThat(Files.size(files.get(0))).isEqualTo(3L * lineLength);
        List<String> requestIds = new ArrayList<>();
        for (Path file : files) {
            for (String line : Files.readAllLines(file)) {
                requestIds.add(JSON.readTree(line).get("requestId").asString());
            }
        }
        assertThat(requestIds).containsExactly("r06", "r07", "r08", "r09");
        assertThat(registry.get("stem.exposures.written").counter().count()).isEqualTo(10);
    }

    @Test
    void countsRecordsThatFindTheQueueFullWithoutBlocking() throws IOException {
        // Not started: nothing drains the queue of two.
        ExposureLog exposures = exposureLog(1 << 20, 5, 2, registry);
        for (int i = 0; i < 5; i++) {
            exposures.record(record("r" + i));
        }
        assertThat(registry.get("stem.exposures.dropped").tag("reason", "queue_full").counter().count()).isEqualTo(3);

        exposures.start();
        exposures.close();
        assertThat(registry.get("stem.exposures.written").counter().count()).isEqualTo(2);
        assertThat(Files.readAllLines(ExposureLog.exposureFiles(directory).get(0))).hasSize(2);
    }

    @Test
    void continuesAfterTheFilesOfAnEarlierRun() throws IOException {
        ExposureLog first = exposureLog(1 << 20, 5, 10, registry);
        first.start();
        first.record(record("before-restart"));
        first.close();

        ExposureLog second = exposureLog(1 << 20, 5, 10, new SimpleMeterRegistry());
        second.start();
        second.record(record("after-restart"));
        second.close();

        assertThat(ExposureLog.exposureFiles(directory)).extracting(file -> file.getFileName().toString())
                .containsExactly("exposures-00000001.jsonl", "exposures-00000002.jsonl");
    }

    @Test
    void refusesASecondWriterInTheSameDirectory() {
        ExposureLog first = exposureLog(1 << 20, 5, 10, registry);
        try {
            assertThatThrownBy(() -> exposureLog(1 << 20, 5, 10, new SimpleMeterRegistry()))
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("give every replica its own stem.experiments.exposure-log.dir");
        } finally {
            first.close();
        }
        exposureLog(1 << 20, 5, 10, new SimpleMeterRegistry()).close();
    }

    @Test
    void handsRecordsToTheOsOnceTheFlushIntervalHasPassedAlthoughRecordsKeepComing() throws IOException {
        AtomicLong clock = new AtomicLong();
        ExposureLog exposures = new ExposureLog(directory, 1 << 20, 5, 100, FLUSH_INTERVAL, clock::get, registry);
        exposures.start();
        try {
            exposures.record(record("first"));
            awaitWritten(1);
            clock.addAndGet(FLUSH_INTERVAL.toNanos());

            // Every check hands the writer one more record, so it is never idle long enough to flush for that reason,
            // and these records fill a small part of its buffer: only the interval can put "first" on disk.
            int busy = 0;
            while (!onDisk("first") && busy < BUSY_RECORDS) {
                exposures.record(record("busy-" + busy));
                busy++;
                awaitWritten(busy + 1);
            }
            assertThat(onDisk("first")).as("on disk while the file is open, after %d more records", busy).isTrue();
        } finally {
            exposures.close();
        }
    }

    private void awaitWritten(int records) {
        assertThat(Polling.until(Duration.ofSeconds(10),
                () -> registry.get("stem.exposures.written").counter().count() >= records)).isTrue();
    }

    private boolean onDisk(String requestId) {
        try {
            for (Path file : ExposureLog.exposureFiles(directory)) {
                if (Files.readString(file).contains("\"requestId\":\"" + requestId + "\"")) {
                    return true;
                }
            }
            return false;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private ExposureLog exposureLog(long maxFileSize, int maxFiles, int queueCapacity, MeterRegistry meters) {
        return new ExposureLog(directory, maxFileSize, maxFiles, queueCapacity, FLUSH_INTERVAL, System::nanoTime, meters);
    }

    private static byte[] line(String requestId) {
        return (JSON.writeValueAsString(record(requestId)) + "\n").getBytes(StandardCharsets.UTF_8);
    }

    private static ExposureRecord record(String requestId) {
        Map<String, Double> scores = new LinkedHashMap<>();
        scores.put("follow", 0.1);
        scores.put("activation", 0.02);
        scores.put("pay", 0.003);
        return ExposureRecord.served("2026-11-25T10:00:00.123Z", requestId, "u42", "v1", "stem-net", "20261124T201228Z",
                List.of(new Assignment("model", 17, "treatment", "stem-net", "20261124T201228Z", null)),
                List.of(new CandidateScores("a1", scores), new CandidateScores("a2", scores)));
    }
}
