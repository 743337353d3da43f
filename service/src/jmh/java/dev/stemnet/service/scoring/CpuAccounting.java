package dev.stemnet.service.scoring;

import com.sun.management.OperatingSystemMXBean;
import dev.stemnet.service.ProcStat;
import dev.stemnet.service.PrometheusScrape;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * Where the benches read CPU time: this JVM's, the service's process and its JIT compiler threads' (from {@code /proc},
 * the process id in {@code SERVICE_PID}, set by scripts/with-service.sh; a second service's in {@code ALT_SERVICE_PID}),
 * the part of the service's spent inside ONNX Runtime (its own counter, over Prometheus), and the machine's load
 * average.
 */
final class CpuAccounting {

    static final String NETWORK_CPU = "stem_network_cpu_seconds_total";
    /**
     * The environment variables that may hold a service's process id: the bench's own service, and the second one of
     * {@code -Dstem.bench.alt-url}. Each count sums over both; the service not driven idles meanwhile.
     */
    private static final List<String> SERVICE_PID_VARIABLES = List.of("SERVICE_PID", "ALT_SERVICE_PID");
    private static final HttpClient SCRAPER = HttpClient.newHttpClient();

    private CpuAccounting() {}

    /** CPU time of this JVM (user + system), in nanoseconds. */
    static long benchCpuNanos() {
        return ((OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean()).getProcessCpuTime();
    }

    /** CPU time of the service processes ({@link #SERVICE_PID_VARIABLES}). */
    static long serviceCpuNanos() {
        return SERVICE_PID_VARIABLES.stream().mapToLong(CpuAccounting::processCpuNanos).sum();
    }

    /** The {@code /proc} directory of the process whose id the environment variable holds; null without one. */
    private static Path procDirectory(String pidVariable) {
        String pid = System.getenv(pidVariable);
        return pid == null || pid.isBlank() ? null : Path.of("/proc", pid.trim());
    }

    /** 0 without a process id. */
    private static long processCpuNanos(String pidVariable) {
        Path process = procDirectory(pidVariable);
        if (process == null) {
            return 0;
        }
        try {
            return ProcStat.cpuNanos(process.resolve("stat"));
        } catch (IOException | RuntimeException e) {
            return 0;
        }
    }

    /**
     * CPU time of the service processes' JIT compiler threads ({@link #SERVICE_PID_VARIABLES}): a second service warms
     * up until its JIT settles too.
     */
    static long serviceJitNanos() {
        return SERVICE_PID_VARIABLES.stream().mapToLong(CpuAccounting::jitNanos).sum();
    }

    /** 0 without a process id. */
    private static long jitNanos(String pidVariable) {
        Path process = procDirectory(pidVariable);
        if (process == null) {
            return 0;
        }
        long nanos = 0;
        try (var tasks = Files.list(process.resolve("task"))) {
            for (Path task : tasks.toList()) {
                try {
                    String name = Files.readString(task.resolve("comm"));
                    if (name.startsWith("C1 CompilerThre") || name.startsWith("C2 CompilerThre")) {
                        nanos += ProcStat.cpuNanos(task.resolve("stat"));
                    }
                } catch (IOException | RuntimeException e) {
                    // The thread ended meanwhile: its time is no longer the JIT's to count.
                }
            }
        } catch (IOException e) {
            return 0;
        }
        return nanos;
    }

    /** The sum of {@code stem_network_cpu_seconds_total} over its series (models and versions) in a scrape. */
    static double networkCpuSeconds(String scrape) {
        return new PrometheusScrape(scrape).sum(NETWORK_CPU, Map.of());
    }

    /** NaN without a Prometheus endpoint or when it cannot be read: the split is then not printed. */
    static double networkCpuSeconds(URI prometheus) {
        if (prometheus == null) {
            return Double.NaN;
        }
        try {
            HttpResponse<String> response = SCRAPER.send(HttpRequest.newBuilder(prometheus).build(),
                    HttpResponse.BodyHandlers.ofString());
            return response.statusCode() == 200 ? networkCpuSeconds(response.body()) : Double.NaN;
        } catch (IOException e) {
            return Double.NaN;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Double.NaN;
        }
    }

    static String loadavg() {
        try {
            String[] parts = Files.readString(Path.of("/proc/loadavg")).split(" ");
            return parts[0] + " " + parts[1] + " " + parts[2];
        } catch (IOException e) {
            return "?";
        }
    }
}
