package dev.stemnet.service.scoring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.net.httpserver.HttpServer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What `make serving-overhead` reads from wrk: the figures its saturation rounds are judged on. The script runs
 * against a real HTTP server (wrk is installed by scripts/install-test-deps.sh, as for the bench).
 */
class WrkTest {

    // The script's summary line as wrk prints it after its own report, then bash's `times`: the shell's own CPU, then
    // its children's (wrk's).
    private static final String WRK_THEN_TIMES = """
            Running 10s test @ http://localhost:8080/v1/score
              1 threads and 2 connections
              11855 requests in 10.00s, 6.32MB read
              Non-2xx or 3xx responses: 12
            Requests/sec:   1185.33
            Transfer/sec:    647.35KB
            wrk-summary requests 11855 microseconds 10001562 non-2xx 12 socket-errors 3
            0m0.004s 0m0.001s
            0m0.120s 0m0.250s
            """;

    @Test
    void readsTheOkCountTheFailuresTheDurationAndWrksCpuTime() {
        Wrk.Output parsed = Wrk.Output.parse(WRK_THEN_TIMES);

        assertThat(parsed.ok()).isEqualTo(11855 - 12);
        assertThat(parsed.errors()).isEqualTo(12 + 3);
        assertThat(parsed.seconds()).isEqualTo(10.001562);
        assertThat(parsed.clientCpuNanos()).isEqualTo(370_000_000L);
    }

    @Test
    void refusesAReportWithoutASuccess() {
        String noneServed = WRK_THEN_TIMES.replace("requests 11855", "requests 12");

        assertThatThrownBy(() -> Wrk.Output.parse(noneServed)).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("no 2xx");
    }

    @Test
    void theWrkScriptPostsTheBodyAndCountsWhatTheServerRefused(@TempDir Path dir) throws Exception {
        Path bodyFile = Files.writeString(dir.resolve("body.json"), LoopbackScoreServer.BODY);
        AtomicInteger received = new AtomicInteger();
        AtomicInteger refused = new AtomicInteger();
        AtomicInteger malformed = new AtomicInteger();
        HttpServer server = LoopbackScoreServer.start(exchange -> {
            byte[] posted = exchange.getRequestBody().readAllBytes();
            boolean asSent = exchange.getRequestMethod().equals("POST")
                    && "application/json".equals(exchange.getRequestHeaders().getFirst("Content-Type"))
                    && new String(posted, StandardCharsets.UTF_8).equals(LoopbackScoreServer.BODY);
            int status = !asSent ? 400 : received.incrementAndGet() % 4 == 0 ? 429 : 200;
            if (!asSent) {
                malformed.incrementAndGet();
            } else if (status == 429) {
                refused.incrementAndGet();
            }
            exchange.sendResponseHeaders(status, -1);
            exchange.close();
        });
        try {
            Wrk.Output parsed = Wrk.run(LoopbackScoreServer.scoreUrl(server), bodyFile, 2, 1);

            assertThat(malformed).hasValue(0);
            assertThat(parsed.ok()).isPositive();
            // Requests wrk still had in flight when its time was up may have reached the server uncounted.
            assertThat(parsed.ok() + parsed.errors()).isBetween(received.get() - 2L, (long) received.get());
            assertThat(parsed.errors()).isBetween(refused.get() - 2L, (long) refused.get());
            assertThat(parsed.seconds()).isBetween(0.9, 2.0);
        } finally {
            server.stop(0);
        }
    }
}
