package dev.stemnet.service.scoring;

import java.io.IOException;
import java.net.HttpURLConnection;
import java.net.URI;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.IntConsumer;

/**
 * Requests sent at a fixed rate, each timed from when it was due to start (no coordinated omission): the latency a
 * caller sees at a given load. wrk cannot send at a fixed rate, so HTTP requests go out from this JVM's threads.
 */
final class OpenLoop {

    static {
        // HttpURLConnection keeps 5 idle connections per host by default; a load sent from more threads than that
        // would open a new connection for most requests. Read once, before the first connection: set it here.
        System.setProperty("http.maxConnections", "64");
    }

    private OpenLoop() {}

    /**
     * {@code total = rate * seconds} calls of {@code op} from {@code threads} threads, each warmed first: a thread's first
     * ONNX Runtime run and an HTTP connection's first request are slow, and would otherwise land in the measured tail.
     */
    static PhaseResult run(String label, Op op, double rate, int seconds, int threads) throws InterruptedException {
        String before = CpuAccounting.loadavg();
        int total = (int) (rate * seconds);
        long interval = (long) (1e9 / rate);
        long[] latencies = new long[total];
        AtomicLong errors = new AtomicLong();
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        List<Future<?>> warm = new ArrayList<>();
        for (int i = 0; i < threads * 4; i++) {
            warm.add(pool.submit(() -> {
                op.call();
                return null;
            }));
        }
        for (var future : warm) {
            try {
                future.get();
            } catch (ExecutionException e) {
                System.err.println(label + " warm-up: " + e.getCause());
            }
        }
        long start = System.nanoTime() + 10_000_000;
        arrive(pool, start, interval, total, index -> {
            try {
                op.call();
            } catch (Exception e) {
                errors.incrementAndGet();
            }
            latencies[index] = System.nanoTime() - (start + index * interval);
        });
        pool.shutdown();
        pool.awaitTermination(1, TimeUnit.MINUTES);
        PhaseResult result = PhaseResult.latencies(rate, latencies, errors.get());
        System.out.printf(Locale.ROOT, "%-28s p50 %.2f ms  p99 %.2f ms  errors %d  loadavg %s -> %s%n", label,
                result.percentileMillis(50), result.percentileMillis(99), errors.get(), before, CpuAccounting.loadavg());
        return result;
    }

    /**
     * {@code POST}s the body with the JDK's blocking {@code HttpURLConnection} on the calling thread; anything but 200
     * is an error. Not the JDK's {@code HttpClient}: it hands every exchange between its own threads and spent
     * 0.8-1.1 ms of CPU per 20-candidate request against 0.3-0.4 ms for this (docs/performance.md), CPU taken from the
     * cores the service needs. Connections are kept alive between requests, up to 64 idle ones.
     */
    static Op post(URI url, byte[] body) throws IOException {
        URL target = url.toURL();
        return () -> {
            HttpURLConnection connection = (HttpURLConnection) target.openConnection();
            connection.setRequestMethod("POST");
            connection.setDoOutput(true);
            connection.setRequestProperty("Content-Type", "application/json");
            connection.setFixedLengthStreamingMode(body.length);
            try (var out = connection.getOutputStream()) {
                out.write(body);
            }
            int status = connection.getResponseCode();
            // Read to the end either way, or the connection is not reused.
            try (var in = status < 400 ? connection.getInputStream() : connection.getErrorStream()) {
                byte[] answer = in == null ? new byte[0] : in.readAllBytes();
                if (status != 200) {
                    throw new IOException("HTTP " + status + ": " + new String(answer, StandardCharsets.UTF_8));
                }
            }
        };
    }

    /** Call {@code i} of {@code total} is handed to the pool at {@code start + i * interval}. */
    static void arrive(ExecutorService pool, long start, long interval, int total, IntConsumer call)
            throws InterruptedException {
        for (int i = 0; i < total; i++) {
            long wait = start + i * interval - System.nanoTime();
            if (wait > 0) {
                TimeUnit.NANOSECONDS.sleep(wait);
            }
            int index = i;
            pool.execute(() -> call.accept(index));
        }
    }
}
