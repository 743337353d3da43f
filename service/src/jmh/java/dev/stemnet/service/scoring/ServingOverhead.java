package dev.stemnet.service.scoring;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.OrtSession.SessionOptions;
import ai.onnxruntime.OrtSession.SessionOptions.OptLevel;
import dev.stemnet.service.bundle.Manifest.TableSpec;
import dev.stemnet.service.bundle.Manifest.TensorSpec;
import java.io.IOException;
import java.net.URI;
import java.nio.FloatBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Serving overhead, in one run and on one machine: the same 200-candidate batch scored by
 * <ul>
 *   <li>(a) {@code onnx}: bare ONNX Runtime {@code session.run} on input tensors built once, in an
 *       {@code OrtSession} configured like the service's (CPU, 1 intra-op thread, no spinning, ALL_OPT);
 *   <li>(b) {@code http}: the full {@code POST /v1/score} of a running service (same bundle), JSON in and out;
 *   <li>(c) {@code scorer}: the service's {@code Scorer} in process (encode, gather, run, results), no HTTP;
 *   <li>(h) {@code onnx-handoff}: as (a), but each run handed to one of {@code CONCURRENCY} pool threads and waited
 *       for, as a request reaches a worker in the service: a thread parks and wakes for every run;
 *   <li>(q) {@code onnx-q}: bare {@code session.run} of {@code -Dstem.bench.alt-model} (e.g. an int8 model), if set;
 *   <li>(b') {@code http-alt}: as (b) against a second service at {@code -Dstem.bench.alt-url} (another build, JVM or
 *       setting), if set; its process id in {@code ALT_SERVICE_PID}, its management URL in
 *       {@code -Dstem.bench.alt-management-url}.
 * </ul>
 * Saturation: after {@code -Dstem.bench.warmup-seconds} (20) of warm-up each (an HTTP side's longer while the
 * services' JIT still compiles, {@code -Dstem.bench.warmup-until-jit-below}),
 * {@code -Dstem.bench.concurrency} (2 = the cores) closed-loop threads for each, rounds interleaved
 * so that drift in the machine's load hits every side alike. The HTTP sides' closed loops are driven by
 * {@code wrk}, one thread over {@code CONCURRENCY} connections (scripts/install-test-deps.sh installs it): the client
 * shares the service's two cores, and the lighter the client, the less the service's CPU per request rises: per
 * 20-candidate request the JDK's {@code HttpClient} spent about 0.7 ms of CPU, hey 0.15 ms and wrk 0.03 ms
 * (docs/performance.md, "Serving overhead"). Latency: open-loop arrivals at a fixed rate of 50% of each side's
 * saturation throughput, latency measured from the intended start (no coordinated omission), sent by the JDK's
 * blocking {@code HttpURLConnection} (wrk cannot send open-loop at a fixed rate), about 0.3-0.4 ms of CPU per
 * 20-candidate request: at small requests that is a share of the cores which the service's saturation, measured with
 * wrk, did not leave it.
 * Of the HTTP sides' CPU, the part their threads spent inside ONNX Runtime comes from the service's
 * {@code stem_network_cpu_seconds_total} ({@code -Dstem.bench.management-url}, :8081).
 * Prints one table, then each side's ratios to bare ONNX Runtime; for the HTTP sides also the 95% interval of
 * onnx/service over the rounds and each round's own ratio. {@code /proc/loadavg} is printed with every phase.
 */
public final class ServingOverhead {

    private static final int CONCURRENCY = Integer.getInteger("stem.bench.concurrency", 2);
    private static final int SECONDS = Integer.getInteger("stem.bench.seconds", 15);
    // The service's JIT takes longer to settle than the bare session: its CPU per request kept falling for ~30 s.
    private static final int WARMUP_SECONDS = Integer.getInteger("stem.bench.warmup-seconds", 20);
    /**
     * An HTTP side's warm-up goes on past {@code WARMUP_SECONDS}, 10 s at a time, until the services' JIT compiler
     * threads took less than this share of their CPU in the last 10 s, or {@code stem.bench.warmup-max-seconds} (600)
     * have passed: at 200 candidates C2 went on compiling for minutes, and its CPU counts in the service's.
     * 0 turns the extension off.
     */
    private static final double WARMUP_UNTIL_JIT_BELOW = Double.parseDouble(
            System.getProperty("stem.bench.warmup-until-jit-below", "0.01"));
    private static final int WARMUP_MAX_SECONDS = Integer.getInteger("stem.bench.warmup-max-seconds", 600);
    private static final int WARMUP_STEP_SECONDS = 10;
    private static final int ROUNDS = Integer.getInteger("stem.bench.rounds", 2);
    private static final int OPEN_LOOP_THREADS = Integer.getInteger("stem.bench.open-loop-threads", 8);
    private static final String URL = System.getProperty("stem.bench.url", "http://localhost:8080") + "/v1/score";
    /** The services' Prometheus endpoints, for the CPU time their threads spent inside ONNX Runtime. */
    private static final String MANAGEMENT_URL = System.getProperty("stem.bench.management-url", "http://localhost:8081");

    public static void main(String[] args) throws Exception {
        int candidates = Integer.getInteger("stem.bench.candidates", 200);
        try (BenchFixture fixture = new BenchFixture(candidates, 100_000)) {
            OrtEnvironment environment = OrtEnvironment.getEnvironment();
            Map<String, OnnxTensor> feeds = feeds(fixture, environment);
            OrtSession fp32 = session(environment, fixture.bundle.file(fixture.bundle.manifest().onnx().file()));
            String altModel = System.getProperty("stem.bench.alt-model");
            OrtSession alt = altModel == null ? null : session(environment, Path.of(altModel));

            byte[] body = BenchFixture.json(fixture.request).getBytes(StandardCharsets.UTF_8);
            // The sides that go over HTTP, by the URL they post to: wrk drives their closed loops.
            Map<String, URI> overHttp = new HashMap<>();
            Map<String, URI> prometheus = new HashMap<>();
            overHttp.put("http", URI.create(URL));
            prometheus.put("http", URI.create(MANAGEMENT_URL + "/actuator/prometheus"));
            String altUrl = System.getProperty("stem.bench.alt-url");
            if (altUrl != null) {
                overHttp.put("http-alt", URI.create(altUrl + "/v1/score"));
                String altManagement = System.getProperty("stem.bench.alt-management-url");
                if (altManagement != null) {
                    prometheus.put("http-alt", URI.create(altManagement + "/actuator/prometheus"));
                }
            }
            Map<String, Op> sides = new LinkedHashMap<>();
            sides.put("onnx", () -> fp32.run(feeds).close());
            sides.put("http", OpenLoop.post(overHttp.get("http"), body));
            sides.put("scorer", () -> fixture.scorer.score(fixture.request, Deadline.none(), StageTimings.NONE));
            ExecutorService handoff = Executors.newFixedThreadPool(CONCURRENCY, runnable -> {
                Thread thread = new Thread(runnable, "onnx-handoff");
                thread.setDaemon(true);
                return thread;
            });
            sides.put("onnx-handoff", () -> handoff.submit(() -> {
                fp32.run(feeds).close();
                return null;
            }).get());
            if (alt != null) {
                sides.put("onnx-q", () -> alt.run(feeds).close());
            }
            if (altUrl != null) {
                sides.put("http-alt", OpenLoop.post(overHttp.get("http-alt"), body));
            }
            // -Dstem.bench.sides=http drives the service alone, e.g. while profiling it.
            String only = System.getProperty("stem.bench.sides");
            if (only != null) {
                sides.keySet().retainAll(List.of(only.split(",")));
            }

            System.out.printf(Locale.ROOT, "bundle %s, %d candidates, concurrency %d, %d s warm-up, %d s per phase, %d rounds, %s%n",
                    BenchFixture.bundleDir(), candidates, CONCURRENCY, WARMUP_SECONDS, SECONDS, ROUNDS, URL);
            Path bodyFile = Files.createTempFile("serving-overhead-", ".json");
            bodyFile.toFile().deleteOnExit();
            Files.write(bodyFile, body);
            for (Map.Entry<String, Op> side : sides.entrySet()) {
                PhaseResult warm = saturate(side.getKey() + " warm-up", side.getValue(), overHttp.get(side.getKey()),
                        prometheus.get(side.getKey()), bodyFile, WARMUP_SECONDS);
                for (int seconds = WARMUP_SECONDS; overHttp.containsKey(side.getKey()) && seconds < WARMUP_MAX_SECONDS
                        && jitStillCompiling(warm, WARMUP_UNTIL_JIT_BELOW); seconds += WARMUP_STEP_SECONDS) {
                    warm = saturate(side.getKey() + " warm-up (JIT " + String.format(Locale.ROOT, "%.1f%%", 100 * warm.jitShare()) + ")",
                            side.getValue(), overHttp.get(side.getKey()), prometheus.get(side.getKey()), bodyFile,
                            WARMUP_STEP_SECONDS);
                }
            }
            OverheadReport report = new OverheadReport(ROUNDS);
            for (int round = 0; round < ROUNDS; round++) {
                for (Map.Entry<String, Op> side : sides.entrySet()) {
                    report.record(side.getKey(), round, saturate(side.getKey() + " saturation #" + (round + 1),
                            side.getValue(), overHttp.get(side.getKey()), prometheus.get(side.getKey()), bodyFile, SECONDS));
                }
            }
            Map<String, PhaseResult> halfLoad = new HashMap<>();
            for (String name : List.of("onnx", "http", "http-alt")) {
                if (!sides.containsKey(name)) {
                    continue;
                }
                double rate = report.meanSaturation(name) / 2;
                halfLoad.put(name, OpenLoop.run(name + " at 50% (" + String.format(Locale.ROOT, "%.1f", rate) + "/s)",
                        sides.get(name), rate, SECONDS, OPEN_LOOP_THREADS));
            }
            report.print(sides.keySet(), halfLoad);
            System.out.println("service pid for cpu accounting: " + System.getenv("SERVICE_PID"));
            System.out.println("loadavg at end: " + CpuAccounting.loadavg());
        }
    }

    /** The request's inputs exactly as the service builds them, wrapped once as OnnxTensors. */
    private static Map<String, OnnxTensor> feeds(BenchFixture fixture, OrtEnvironment environment) throws OrtException {
        long[][] rows = fixture.encode();
        EmbeddingGatherer gatherer = new EmbeddingGatherer(fixture.cached);
        List<TableSpec> tables = fixture.bundle.manifest().tables();
        Map<String, OnnxTensor> feeds = new HashMap<>();
        int batch = fixture.request.candidates().size();
        for (int t = 0; t < tables.size(); t++) {
            TableSpec table = tables.get(t);
            FloatBuffer input = gatherer.gather(table, rows[t], new InputBuffers());
            TensorSpec spec = fixture.bundle.manifest().onnx().inputs().stream()
                    .filter(i -> i.table().equals(table.name())).findFirst().orElseThrow();
            feeds.put(spec.name(), OnnxTensor.createTensor(environment, input,
                    new long[] {batch, table.fields().size(), table.dim()}));
        }
        return feeds;
    }

    private static OrtSession session(OrtEnvironment environment, Path model) throws OrtException {
        try (SessionOptions options = new SessionOptions()) {
            options.setIntraOpNumThreads(1);
            options.addConfigEntry("session.intra_op.allow_spinning", "0");
            options.addConfigEntry("session.inter_op.allow_spinning", "0");
            options.setOptimizationLevel(OptLevel.ALL_OPT);
            return environment.createSession(model.toString(), options);
        }
    }

    /** A closed loop over HTTP with wrk when the side has a URL, else one in this process. */
    private static PhaseResult saturate(String label, Op op, URI url, URI prometheus, Path body, int seconds)
            throws IOException, InterruptedException {
        return url == null ? closedLoop(label, op, seconds) : wrkClosedLoop(label, url, prometheus, body, seconds);
    }

    /**
     * wrk with {@code CONCURRENCY} connections posting {@code body} for {@code seconds}; a 2xx counts as done, anything
     * else as an error. CPU per request counts wrk's (from the shell's {@code times}), this JVM's and the service's.
     */
    private static PhaseResult wrkClosedLoop(String label, URI url, URI prometheus, Path body, int seconds)
            throws IOException, InterruptedException {
        String before = CpuAccounting.loadavg();
        double networkBefore = CpuAccounting.networkCpuSeconds(prometheus);
        long jitBefore = CpuAccounting.serviceJitNanos();
        long benchBefore = CpuAccounting.benchCpuNanos();
        long serviceBefore = CpuAccounting.serviceCpuNanos();
        Wrk.Output parsed = Wrk.run(url, body, CONCURRENCY, seconds);
        long ops = parsed.ok();
        long service = CpuAccounting.serviceCpuNanos() - serviceBefore;
        long bench = CpuAccounting.benchCpuNanos() - benchBefore;
        PhaseResult result = new PhaseResult(ops / parsed.seconds(), new long[0], parsed.errors(),
                (bench + service + parsed.clientCpuNanos()) / 1e6 / ops, service / 1e6 / ops,
                (CpuAccounting.networkCpuSeconds(prometheus) - networkBefore) * 1e3 / ops,
                (CpuAccounting.serviceJitNanos() - jitBefore) / 1e6 / ops);
        System.out.printf(Locale.ROOT,
                "%-28s %8.1f/s  cpu %.2f ms/req (service %.2f, of it ONNX Runtime %.2f, JIT %.2f; wrk)  errors %d  loadavg %s -> %s%n",
                label, result.perSecond(), result.cpuMillisPerOp(), result.serviceCpuMillisPerOp(),
                result.networkCpuMillisPerOp(), result.jitCpuMillisPerOp(), parsed.errors(), before, CpuAccounting.loadavg());
        return result;
    }

    private static PhaseResult closedLoop(String label, Op op, int seconds) throws InterruptedException {
        String before = CpuAccounting.loadavg();
        long benchBefore = CpuAccounting.benchCpuNanos();
        long serviceBefore = CpuAccounting.serviceCpuNanos();
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        AtomicLong errors = new AtomicLong();
        long[] counts = new long[CONCURRENCY];
        Thread[] threads = new Thread[CONCURRENCY];
        long started = System.nanoTime();
        for (int i = 0; i < CONCURRENCY; i++) {
            int index = i;
            threads[i] = new Thread(() -> {
                long n = 0;
                while (System.nanoTime() < end) {
                    try {
                        op.call();
                        n++;
                    } catch (Exception e) {
                        if (errors.incrementAndGet() == 1) {
                            System.err.println(label + ": " + e);
                        }
                    }
                }
                counts[index] = n;
            });
            threads[i].start();
        }
        for (Thread thread : threads) {
            thread.join();
        }
        double elapsed = (System.nanoTime() - started) / 1e9;
        long ops = Arrays.stream(counts).sum();
        long service = CpuAccounting.serviceCpuNanos() - serviceBefore;
        long bench = CpuAccounting.benchCpuNanos() - benchBefore;
        PhaseResult result = new PhaseResult(ops / elapsed, new long[0], errors.get(), (bench + service) / 1e6 / ops,
                service / 1e6 / ops, Double.NaN, Double.NaN);
        System.out.printf(Locale.ROOT, "%-28s %8.1f/s  cpu %.2f ms/req (service %.2f)  errors %d  loadavg %s -> %s%n",
                label, result.perSecond(), result.cpuMillisPerOp(), result.serviceCpuMillisPerOp(), errors.get(),
                before, CpuAccounting.loadavg());
        return result;
    }

    /** Whether a warm-up phase left the JIT at or above {@code threshold} of the service's CPU; never with 0 (off). */
    static boolean jitStillCompiling(PhaseResult warmUp, double threshold) {
        return threshold > 0 && warmUp.jitShare() >= threshold;
    }
}
