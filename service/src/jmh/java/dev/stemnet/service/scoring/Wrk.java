package dev.stemnet.service.scoring;

import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * wrk as the bench's closed-loop HTTP client: one thread over a few connections, a fifth of hey's CPU per request, so
 * that the client takes as little as it can of the cores it shares with the service (scripts/install-test-deps.sh
 * installs it).
 */
final class Wrk {

    /**
     * wrk's script: every request {@code POST}s the JSON file named by {@code WRK_BODY}, and the run ends with the line
     * {@link Output} reads. wrk counts a non-2xx answer both as a request and as a status error.
     */
    static final String SCRIPT = """
            local file = assert(io.open(assert(os.getenv("WRK_BODY")), "rb"))
            wrk.method = "POST"
            wrk.body = file:read("*a")
            file:close()
            wrk.headers["Content-Type"] = "application/json"

            function done(summary, latency, requests)
                local errors = summary.errors
                io.write(string.format("wrk-summary requests %d microseconds %d non-2xx %d socket-errors %d\\n",
                    summary.requests, summary.duration, errors.status,
                    errors.connect + errors.read + errors.write + errors.timeout))
            end
            """;

    private Wrk() {}

    /** Runs wrk over {@code connections} connections for {@code seconds}, every request posting {@code body}. */
    static Output run(URI url, Path body, int connections, int seconds) throws IOException, InterruptedException {
        Path script = Files.createTempFile("serving-overhead-", ".lua");
        try {
            Files.writeString(script, SCRIPT);
            String command = String.format(Locale.ROOT,
                    "wrk --threads 1 --connections %d --duration %ds --script %s %s && times", connections, seconds,
                    script, url);
            ProcessBuilder builder = new ProcessBuilder("bash", "-c", command).redirectErrorStream(true);
            builder.environment().put("WRK_BODY", body.toString());
            Process wrk = builder.start();
            String output = new String(wrk.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (wrk.waitFor() != 0) {
                throw new IOException("wrk failed (installed by scripts/install-test-deps.sh): " + command + "\n" + output);
            }
            return Output.parse(output);
        } finally {
            Files.deleteIfExists(script);
        }
    }

    /** What the bench reads of {@link #SCRIPT}'s summary line and of the shell's {@code times} after wrk. */
    record Output(long ok, long errors, double seconds, long clientCpuNanos) {

        private static final Pattern SUMMARY = Pattern.compile(
                "wrk-summary requests (\\d+) microseconds (\\d+) non-2xx (\\d+) socket-errors (\\d+)");
        private static final Pattern TIMES = Pattern.compile("(\\d+)m([\\d.]+)s (\\d+)m([\\d.]+)s\\s*$");

        static Output parse(String output) {
            var summary = SUMMARY.matcher(output);
            // `times` prints the shell's user and system time, then its children's: wrk's.
            var times = TIMES.matcher(output.strip());
            if (!summary.find() || !times.find()) {
                throw new IllegalStateException("no summary or no timings in wrk's output:\n" + output);
            }
            long nonSuccess = Long.parseLong(summary.group(3));
            long ok = Long.parseLong(summary.group(1)) - nonSuccess;
            if (ok <= 0) {
                throw new IllegalStateException("no 2xx in wrk's output:\n" + output);
            }
            double cpuSeconds = Integer.parseInt(times.group(1)) * 60 + Double.parseDouble(times.group(2))
                    + Integer.parseInt(times.group(3)) * 60 + Double.parseDouble(times.group(4));
            return new Output(ok, nonSuccess + Long.parseLong(summary.group(4)),
                    Long.parseLong(summary.group(2)) / 1e6, (long) (cpuSeconds * 1e9));
        }
    }
}
