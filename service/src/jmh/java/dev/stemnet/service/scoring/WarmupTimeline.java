package dev.stemnet.service.scoring;

import dev.stemnet.service.bundle.BundleLoader;
import jakarta.validation.Validation;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.Locale;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.IntStream;

/**
 * How the service's CPU time per request settles from the moment it turns ready: the measurement behind
 * {@code stem.warmup.*} ("the first minute serves within 1.5x of steady-state CPU per request"). Run by
 * {@code make warmup-timeline}, which starts the service with {@code scripts/with-service.sh --at-start}: this waits
 * for readiness on the management port itself, polling every 50 ms, and starts sending the moment it is UP.
 *
 * <p>Sends the 200-candidate request of {@link BenchFixture} open-loop at a fixed, moderate rate and prints, for
 * consecutive windows, the service's CPU time ({@code SERVICE_PID}, all its threads: JIT compilers and GC included)
 * per request completed in the window, that against the steady state (the mean of the last windows), and the
 * latency from each request's intended start. The latency of the first windows includes this JVM's own warm-up;
 * the CPU column does not. Settings: {@code -Dstem.bench.rate} (25 requests/s), {@code -Dstem.bench.window-seconds}
 * (10), {@code -Dstem.bench.timeline-seconds} (300), {@code -Dstem.bench.steady-windows} (6, the last minute),
 * {@code -Dstem.bench.candidates} (200), {@code -Dstem.bench.url}, {@code -Dstem.bench.management-url}. Compare
 * against no warm-up with {@code SERVICE_OPTS=--stem.warmup.requests=0}.
 */
public final class WarmupTimeline {

    private static final double RATE = Double.parseDouble(System.getProperty("stem.bench.rate", "25"));
    private static final int WINDOW_SECONDS = Integer.getInteger("stem.bench.window-seconds", 10);
    private static final int SECONDS = Integer.getInteger("stem.bench.timeline-seconds", 300);
    private static final int STEADY_WINDOWS = Integer.getInteger("stem.bench.steady-windows", 6);
    private static final int FIRST_MINUTE_WINDOWS = Math.max(1, 60 / WINDOW_SECONDS);
    private static final int THREADS = Integer.getInteger("stem.bench.open-loop-threads", 8);
    private static final Duration READY_WITHIN = Duration.ofMinutes(5);
    private static final String URL = System.getProperty("stem.bench.url", "http://localhost:8080") + "/v1/score";
    private static final String READINESS = System.getProperty("stem.bench.management-url", "http://localhost:8081")
            + "/actuator/health/readiness";

    public static void main(String[] args) throws Exception {
        if (System.getenv("SERVICE_PID") == null) {
            throw new IllegalStateException("SERVICE_PID is not set: run through `make warmup-timeline`"
                    + " (scripts/with-service.sh --at-start), which measures the service it starts");
        }
        int candidates = Integer.getInteger("stem.bench.candidates", 200);
        int windows = SECONDS / WINDOW_SECONDS;
        if (windows < STEADY_WINDOWS + FIRST_MINUTE_WINDOWS) {
            throw new IllegalArgumentException("stem.bench.timeline-seconds " + SECONDS + " leaves no steady-state"
                    + " windows after the first minute");
        }
        // Built while the service loads, so that sending starts the moment it is ready.
        String body = BenchFixture.json(BenchFixture.request(
                new BundleLoader(Validation.buildDefaultValidatorFactory().getValidator()).load(BenchFixture.bundleDir()),
                candidates, 42));
        ExecutorService pool = Executors.newFixedThreadPool(THREADS);
        HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

        double waited = awaitReadiness(client);
        System.out.printf(Locale.ROOT, "bundle %s, %d candidates, %.1f requests/s open-loop, %d windows of %d s;"
                        + " ready after %.1f s of polling; loadavg %s%n", BenchFixture.bundleDir(), candidates, RATE,
                windows, WINDOW_SECONDS, waited, CpuAccounting.loadavg());

        long start = System.nanoTime();
        long[] cpuAtBoundary = new long[windows + 1];
        cpuAtBoundary[0] = CpuAccounting.serviceCpuNanos();
        Thread sampler = new Thread(() -> sampleCpu(start, cpuAtBoundary), "cpu-sampler");
        sampler.start();

        int total = (int) (RATE * SECONDS);
        long interval = (long) (1e9 / RATE);
        long[] completedAt = new long[total];
        long[] latencies = new long[total];
        boolean[] failed = new boolean[total];
        AtomicLong errors = new AtomicLong();
        Op send = OpenLoop.post(URI.create(URL), body.getBytes(StandardCharsets.UTF_8));
        OpenLoop.arrive(pool, start, interval, total, index -> {
            try {
                send.call();
            } catch (Exception e) {
                failed[index] = true;
                if (errors.incrementAndGet() == 1) {
                    System.err.println("request " + index + ": " + e);
                }
            }
            long now = System.nanoTime();
            completedAt[index] = now - start;
            latencies[index] = now - (start + index * interval);
        });
        pool.shutdown();
        pool.awaitTermination(1, TimeUnit.MINUTES);
        sampler.join();
        print(windows, cpuAtBoundary, completedAt, latencies, failed);
        System.out.println("errors " + errors.get() + ", loadavg at end " + CpuAccounting.loadavg());
    }

    /** @return seconds polled until readiness answered 200 */
    private static double awaitReadiness(HttpClient client) throws InterruptedException {
        HttpRequest probe = HttpRequest.newBuilder(URI.create(READINESS)).timeout(Duration.ofSeconds(1)).build();
        long started = System.nanoTime();
        while (System.nanoTime() - started < READY_WITHIN.toNanos()) {
            try {
                if (client.send(probe, HttpResponse.BodyHandlers.discarding()).statusCode() == 200) {
                    return (System.nanoTime() - started) / 1e9;
                }
            } catch (IOException e) {
                // Not listening yet.
            }
            TimeUnit.MILLISECONDS.sleep(50);
        }
        throw new IllegalStateException("not ready within " + READY_WITHIN + " at " + READINESS);
    }

    /** The service's CPU time at every window boundary, taken as close to it as sleeping allows. */
    private static void sampleCpu(long start, long[] cpuAtBoundary) {
        for (int k = 1; k < cpuAtBoundary.length; k++) {
            long wait = start + TimeUnit.SECONDS.toNanos((long) k * WINDOW_SECONDS) - System.nanoTime();
            if (wait > 0) {
                try {
                    TimeUnit.NANOSECONDS.sleep(wait);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
            cpuAtBoundary[k] = CpuAccounting.serviceCpuNanos();
        }
    }

    private static void print(int windows, long[] cpuAtBoundary, long[] completedAt, long[] latencies, boolean[] failed) {
        double[] cpuPerRequest = new double[windows];
        int[] completed = new int[windows];
        long[][] windowLatencies = new long[windows][];
        for (int k = 0; k < windows; k++) {
            long from = TimeUnit.SECONDS.toNanos((long) k * WINDOW_SECONDS);
            long to = TimeUnit.SECONDS.toNanos((long) (k + 1) * WINDOW_SECONDS);
            int[] inWindow = IntStream.range(0, completedAt.length)
                    .filter(i -> !failed[i] && completedAt[i] >= from && completedAt[i] < to).toArray();
            completed[k] = inWindow.length;
            windowLatencies[k] = Arrays.stream(inWindow).mapToLong(i -> latencies[i]).toArray();
            cpuPerRequest[k] = (cpuAtBoundary[k + 1] - cpuAtBoundary[k]) / 1e6 / inWindow.length;
        }
        double steady = Arrays.stream(cpuPerRequest, windows - STEADY_WINDOWS, windows).average().orElse(Double.NaN);
        System.out.println();
        System.out.println("window s    requests   service cpu ms/req   x steady   p50 ms   p99 ms");
        for (int k = 0; k < windows; k++) {
            PhaseResult latency = PhaseResult.latencies(0, windowLatencies[k], 0);
            System.out.printf(Locale.ROOT, "%4d-%-4d %10d %20.2f %9.2fx %8.2f %8.2f%n", k * WINDOW_SECONDS,
                    (k + 1) * WINDOW_SECONDS, completed[k], cpuPerRequest[k], cpuPerRequest[k] / steady,
                    latency.percentileMillis(50), latency.percentileMillis(99));
        }
        double worstFirstMinute = Arrays.stream(cpuPerRequest, 0, FIRST_MINUTE_WINDOWS).max().orElse(Double.NaN);
        System.out.printf(Locale.ROOT, "steady state (mean of the last %d windows): %.2f ms/req; first minute: worst"
                + " window %.2f ms/req = %.2fx steady state (bar: 1.5x)%n", STEADY_WINDOWS, steady, worstFirstMinute,
                worstFirstMinute / steady);
    }
}
