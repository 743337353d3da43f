package dev.stemnet.service.scoring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.net.httpserver.HttpHandler;
import com.sun.net.httpserver.HttpServer;
import dev.stemnet.service.scoring.ServingOverhead.WrkOutput;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What `make serving-overhead` reads from wrk and prints per round: the figures the targets are judged on. The
 * wrk script runs against a real HTTP server (wrk is installed by scripts/install-test-deps.sh, as for the bench).
 */
class ServingOverheadReportTest {

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

    private static final String BODY = "{\"userId\":\"u1\",\"candidates\":[]}";

    @Test
    void readsTheOkCountTheFailuresTheDurationAndWrksCpuTime() {
        WrkOutput parsed = WrkOutput.parse(WRK_THEN_TIMES);

        assertThat(parsed.ok()).isEqualTo(11855 - 12);
        assertThat(parsed.errors()).isEqualTo(12 + 3);
        assertThat(parsed.seconds()).isEqualTo(10.001562);
        assertThat(parsed.clientCpuNanos()).isEqualTo(370_000_000L);
    }

    @Test
    void refusesAReportWithoutASuccess() {
        String noneServed = WRK_THEN_TIMES.replace("requests 11855", "requests 12");

        assertThatThrownBy(() -> WrkOutput.parse(noneServed)).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("no 2xx");
    }

    @Test
    void theWrkScriptPostsTheBodyAndCountsWhatTheServerRefused(@TempDir Path dir) throws Exception {
        Path bodyFile = Files.writeString(dir.resolve("body.json"), BODY);
        AtomicInteger received = new AtomicInteger();
        AtomicInteger refused = new AtomicInteger();
        AtomicInteger malformed = new AtomicInteger();
        HttpServer server = startScoreServer(exchange -> {
            byte[] posted = exchange.getRequestBody().readAllBytes();
            boolean asSent = exchange.getRequestMethod().equals("POST")
                    && "application/json".equals(exchange.getRequestHeaders().getFirst("Content-Type"))
                    && new String(posted, StandardCharsets.UTF_8).equals(BODY);
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
            WrkOutput parsed = ServingOverhead.wrk(scoreUrl(server), bodyFile, 2, 1);

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

    @Test
    void theOpenLoopSenderPostsTheBodyOverOneKeptAliveConnectionAndFailsOnAnythingBut200() throws Exception {
        byte[] body = BODY.getBytes(StandardCharsets.UTF_8);
        Set<Integer> clientPorts = ConcurrentHashMap.newKeySet();
        AtomicInteger received = new AtomicInteger();
        AtomicInteger malformed = new AtomicInteger();
        HttpServer server = startScoreServer(exchange -> {
            byte[] posted = exchange.getRequestBody().readAllBytes();
            if (!exchange.getRequestMethod().equals("POST")
                    || !"application/json".equals(exchange.getRequestHeaders().getFirst("Content-Type"))
                    || !Arrays.equals(posted, body)) {
                malformed.incrementAndGet();
            }
            clientPorts.add(exchange.getRemoteAddress().getPort());
            boolean refuse = received.incrementAndGet() == 3;
            byte[] answer = (refuse ? "{\"title\":\"busy\"}" : "{\"results\":[]}").getBytes(StandardCharsets.UTF_8);
            exchange.sendResponseHeaders(refuse ? 429 : 200, answer.length);
            exchange.getResponseBody().write(answer);
            exchange.close();
        });
        try {
            ServingOverhead.Op send = ServingOverhead.send(scoreUrl(server), body);

            send.call();
            send.call();
            assertThatThrownBy(send::call).isInstanceOf(IOException.class).hasMessageContaining("HTTP 429")
                    .hasMessageContaining("busy");
            send.call();

            assertThat(received).hasValue(4);
            assertThat(malformed).hasValue(0);
            assertThat(clientPorts).as("one connection, kept alive across requests and the refusal").hasSize(1);
        } finally {
            server.stop(0);
        }
    }

    @Test
    void spreadIsTheRatioOfEachRoundOnItsOwn() {
        double[] onnxMillis = {1.20, 1.20, 1.20, 1.20};
        double[] serviceMillis = {1.50, 1.60, 1.20, 2.40};

        // Per round 0.8, 0.75, 1.0, 0.5; the median of an even count is the mean of the middle two.
        assertThat(ServingOverhead.roundSpread(onnxMillis, serviceMillis))
                .isEqualTo("onnx/service per round: min 0.500, median 0.775, max 1.000 [0.8, 0.75, 1.0, 0.5]");
    }

    @Test
    void theIntervalCollapsesOnIdenticalRoundsAndWidensWithTheirSpread() {
        assertThat(ServingOverhead.ratioInterval(new double[] {1.6, 1.6, 1.6}, new double[] {2.0, 2.0, 2.0}))
                .endsWith(": 0.800-0.800");

        double[] onnxMillis = {1.60, 1.70, 1.50, 1.60, 1.65, 1.55};
        double[] serviceMillis = {2.00, 2.30, 1.80, 2.10, 1.95, 2.40};
        String interval = ServingOverhead.ratioInterval(onnxMillis, serviceMillis);
        Matcher bounds = Pattern.compile(": (\\d\\.\\d{3})-(\\d\\.\\d{3})$").matcher(interval);
        assertThat(bounds.find()).as(interval).isTrue();
        double low = Double.parseDouble(bounds.group(1));
        double high = Double.parseDouble(bounds.group(2));
        double ratioOfMeans = 9.60 / 12.55;
        // Each resample's ratio lies between the lowest and the highest round's own (0.646 and 0.846).
        assertThat(low).isLessThan(ratioOfMeans).isGreaterThanOrEqualTo(0.646);
        assertThat(high).isGreaterThan(ratioOfMeans).isLessThanOrEqualTo(0.846);
        assertThat(high - low).isGreaterThan(0.02);
        assertThat(ServingOverhead.ratioInterval(onnxMillis, serviceMillis)).as("same rounds, same interval").isEqualTo(interval);
    }

    @Test
    void sumsTheNetworksCpuOverEveryModelVersionAndNothingElse() {
        String scrape = """
                # HELP stem_network_cpu_seconds_total CPU time of the serving threads inside the network
                # TYPE stem_network_cpu_seconds_total counter
                stem_network_cpu_seconds_total{model="stem-net",version="v1"} 12.5
                stem_network_cpu_seconds_total{model="stem-net",version="v2"} 0.25
                stem_network_cpu_seconds_totally_else 99
                stem_stage_seconds_sum{model="stem-net",stage="run"} 40.0
                """;

        assertThat(ServingOverhead.networkCpuSeconds(scrape)).isEqualTo(12.75);
    }

    @Test
    void splitsTheServicesCpuIntoOnnxRuntimeAndTheRest() {
        assertThat(ServingOverhead.networkShare(1.60, 2.00, 1.70))
                .isEqualTo("service 2.00 ms/req = ONNX Runtime 1.70 + the rest 0.30; ONNX Runtime in the service / bare: 1.063");
        assertThat(ServingOverhead.networkShare(1.60, 2.00, Double.NaN)).startsWith("no split");
    }

    @Test
    void theJitShareIsOfTheServicesCpuAndNoneForTheSidesInThisProcess() {
        var compiling = new ServingOverhead.Result(100, new long[0], 0, 12.0, 10.0, 8.0, 0.5);
        var inProcess = new ServingOverhead.Result(100, new long[0], 0, 12.0, 0.0, Double.NaN, Double.NaN);

        assertThat(ServingOverhead.jitShare(compiling)).isEqualTo(0.05);
        assertThat(ServingOverhead.jitShare(inProcess)).isZero();
    }

    @Test
    void theWarmUpGoesOnWhileTheJitTakesTheThresholdOrMoreAndNeverWhenTheThresholdIsZero() {
        var compiling = new ServingOverhead.Result(100, new long[0], 0, 12.0, 10.0, 8.0, 0.5);
        var settled = new ServingOverhead.Result(100, new long[0], 0, 12.0, 10.0, 8.0, 0.05);

        assertThat(ServingOverhead.jitStillCompiling(compiling, 0.01)).isTrue();
        assertThat(ServingOverhead.jitStillCompiling(settled, 0.01)).isFalse();
        // -Dstem.bench.warmup-until-jit-below=0 is a fixed warm-up, even with nothing compiling (a share of 0).
        assertThat(ServingOverhead.jitStillCompiling(compiling, 0)).isFalse();
        var idle = new ServingOverhead.Result(100, new long[0], 0, 12.0, 10.0, 8.0, 0.0);
        assertThat(ServingOverhead.jitStillCompiling(idle, 0)).isFalse();
    }

    /** A loopback server answering {@code /v1/score} with {@code handler}, started; the caller stops it. */
    private static HttpServer startScoreServer(HttpHandler handler) throws IOException {
        HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/v1/score", handler);
        server.start();
        return server;
    }

    private static URI scoreUrl(HttpServer server) {
        return URI.create("http://127.0.0.1:" + server.getAddress().getPort() + "/v1/score");
    }
}
