package dev.stemnet.service.experiment;

import static org.assertj.core.api.Assertions.assertThat;

import dev.stemnet.service.Polling;
import dev.stemnet.service.StemNetServiceApplication;
import dev.stemnet.service.TestBundle;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.json.JsonMapper;

/**
 * The exposure log across a crash: the service runs as a process of its own, with an experiment and an exposure log,
 * and is killed with SIGKILL, no shutdown, once the records are on disk. The traffic never pauses while the test
 * waits for them, so the writer is never idle: only its flush interval puts them on disk.
 */
class ExposureLogCrashTest {

    private static final Duration FLUSH_INTERVAL = Duration.ofMillis(200);
    private static final int REQUESTS = 50;
    /**
     * Each check of the files sends one more request, at least {@link Polling}'s 20 ms after the last: this many
     * take 2 s, ten flush intervals. With the first ones that is 150 records of about 320 bytes, less than the
     * writer's 64 KiB buffer holds, so a full buffer cannot be what put them on disk.
     */
    private static final int MAX_FOLLOWING_REQUESTS = 100;
    private static final Duration READY_WITHIN = Duration.ofSeconds(120);
    private static final String EXPERIMENTS = """
            version: crash-test
            layers:
              - {name: ranking, salt: ranking-1, buckets: 10, arms: [{name: off, ranges: "0-4"}, {name: on, ranges: "5-9"}]}
            """;
    private static final JsonMapper JSON = JsonMapper.builder().build();

    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    @TempDir
    Path root;

    @Test
    void recordsOnDiskUnderSteadyTrafficSurviveKillMinus9AndEveryLineParses() throws Exception {
        Path exposures = root.resolve("exposures");
        int port = freePort();
        int managementPort = freePort();
        Process service = start(port, managementPort, exposures);
        try {
            assertThat(Polling.until(READY_WITHIN, () -> !service.isAlive() || ready(managementPort)))
                    .as("ready within %s", READY_WITHIN).isTrue();
            assertThat(service.isAlive()).as("service running; its output:%n%s", Files.readString(log())).isTrue();

            List<String> requestIds = IntStream.range(0, REQUESTS).mapToObj(i -> "crash-%03d".formatted(i)).toList();
            for (String requestId : requestIds) {
                assertThat(score(port, requestId)).isEqualTo(200);
            }
            int[] following = {0};
            boolean onDisk = Polling.until(Duration.ofSeconds(60), () -> {
                if (following[0] < MAX_FOLLOWING_REQUESTS) {
                    score(port, "following-" + following[0]++);
                }
                return requestIdsOnDisk(exposures).containsAll(requestIds);
            });
            assertThat(onDisk).as("all %d records on disk", REQUESTS).isTrue();
            assertThat(following[0]).as("requests sent until then, the traffic never pausing")
                    .isLessThan(MAX_FOLLOWING_REQUESTS);

            service.destroyForcibly();
            assertThat(service.waitFor(30, TimeUnit.SECONDS)).isTrue();

            assertThat(requestIdsOnDisk(exposures)).as("after kill -9").containsAll(requestIds);
            assertThat(text(exposures)).as("no line cut short").allSatisfy(file -> assertThat(file).endsWith("\n"));
        } finally {
            service.destroyForcibly();
        }
    }

    private Process start(int port, int managementPort, Path exposures) throws IOException {
        Path config = Files.writeString(root.resolve("experiments.yaml"), EXPERIMENTS);
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        List<String> command = List.of(java.toString(), "-Xmx512m", StemNetServiceApplication.class.getName(),
                "--server.port=" + port,
                "--management.server.port=" + managementPort,
                "--stem.models.repository=" + TestBundle.repository(),
                "--stem.experiments.config=" + config,
                "--stem.experiments.exposure-log.dir=" + exposures,
                "--stem.experiments.exposure-log.flush-interval=" + FLUSH_INTERVAL.toMillis() + "ms");
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log().toFile());
        // The test's classpath holds the service's classes and dependencies: no jar to build first. It goes in the
        // environment, not on the command line: ONNX Runtime 1.29 crashes the JVM (SIGSEGV, no hs_err file) while
        // reading a /proc/self/cmdline longer than about 4 KB.
        builder.environment().put("CLASSPATH", System.getProperty("java.class.path"));
        return builder.start();
    }

    private Path log() {
        return root.resolve("service.log");
    }

    /**
     * The request ids of every complete line (up to its {@code \n}) of every exposure file; a line that does not
     * parse fails the test. A line still being appended is not complete yet.
     */
    private static Set<String> requestIdsOnDisk(Path exposures) {
        return text(exposures).stream()
                .flatMap(file -> file.substring(0, file.lastIndexOf('\n') + 1).lines())
                .map(line -> JSON.readTree(line).get("requestId").asString())
                .collect(Collectors.toSet());
    }

    private static List<String> text(Path exposures) {
        try {
            if (!Files.isDirectory(exposures)) {
                return List.of();
            }
            List<String> files = new ArrayList<>();
            for (Path file : ExposureLog.exposureFiles(exposures)) {
                files.add(Files.readString(file));
            }
            return files;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private int score(int port, String requestId) {
        String body = """
                {"requestId": "%s", "userId": "u-%s", "candidates": [{"itemId": "a1"}]}""".formatted(requestId, requestId);
        return send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/v1/score"))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body)));
    }

    private boolean ready(int managementPort) {
        try {
            return send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + managementPort + "/actuator/health/readiness")))
                    == 200;
        } catch (UncheckedIOException notListeningYet) {
            return false;
        }
    }

    private int send(HttpRequest.Builder request) {
        try {
            return http.send(request.timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.discarding())
                    .statusCode();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
    }
}
