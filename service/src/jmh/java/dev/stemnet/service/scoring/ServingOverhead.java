package dev.stemnet.service.scoring;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.OrtSession.SessionOptions;
import ai.onnxruntime.OrtSession.SessionOptions.OptLevel;
import dev.stemnet.service.ProcStat;
import dev.stemnet.service.PrometheusScrape;
import dev.stemnet.service.bundle.Manifest.TableSpec;
import dev.stemnet.service.bundle.Manifest.TensorSpec;
import dev.stemnet.service.scoring.ScoreRequest.Candidate;
import java.io.IOException;
import java.net.HttpURLConnection;
import java.net.URI;
import java.net.URL;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.FloatBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.IntConsumer;
import java.util.regex.Pattern;

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
 * Saturation: after {@code -Dstem.bench.warmup-seconds} (20) of warm-up each (the {@code http} side's longer while
 * the service's JIT still compiles, {@code -Dstem.bench.warmup-until-jit-below}),
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
     * An HTTP side's warm-up goes on past {@code WARMUP_SECONDS}, 10 s at a time, until the service's JIT compiler
     * threads took less than this share of its CPU in the last 10 s, or {@code stem.bench.warmup-max-seconds} (600)
     * have passed: at 200 candidates C2 went on compiling for minutes, and its CPU counts in the service's.
     * 0 turns the extension off.
     */
    private static final double WARMUP_UNTIL_JIT_BELOW = Double.parseDouble(
            System.getProperty("stem.bench.warmup-until-jit-below", "0.01"));
    private static final int WARMUP_MAX_SECONDS = Integer.getInteger("stem.bench.warmup-max-seconds", 600);
    private static final int WARMUP_STEP_SECONDS = 10;
    private static final int ROUNDS = Integer.getInteger("stem.bench.rounds", 2);
    private static final int BOOTSTRAP_RESAMPLES = 10_000;
    private static final int OPEN_LOOP_THREADS = Integer.getInteger("stem.bench.open-loop-threads", 8);
    private static final String URL = System.getProperty("stem.bench.url", "http://localhost:8080") + "/v1/score";
    /** The services' Prometheus endpoints, for the CPU time their threads spent inside ONNX Runtime. */
    private static final String MANAGEMENT_URL = System.getProperty("stem.bench.management-url", "http://localhost:8081");
    private static final String NETWORK_CPU = "stem_network_cpu_seconds_total";
    private static final HttpClient SCRAPER = HttpClient.newHttpClient();

    static {
        // HttpURLConnection keeps 5 idle connections per host by default; a load sent from more threads than that
        // would open a new connection for most requests. Read once, before the first connection: set it here.
        System.setProperty("http.maxConnections", "64");
    }

    interface Op {
        void call() throws Exception;
    }

    /**
     * CPU time per request counts the driver and the service ({@code SERVICE_PID}) alike, for every side; of the
     * service's, {@code networkCpuMillisPerOp} was spent inside ONNX Runtime and {@code jitCpuMillisPerOp} by its JIT
     * compiler threads (NaN for the sides in this process).
     */
    record Result(double perSecond, long[] latenciesNanos, long errors, double cpuMillisPerOp, double serviceCpuMillisPerOp,
            double networkCpuMillisPerOp, double jitCpuMillisPerOp) {
        double percentileMillis(double p) {
            if (latenciesNanos.length == 0) {
                return Double.NaN;
            }
            long[] sorted = latenciesNanos.clone();
            Arrays.sort(sorted);
            return sorted[(int) Math.min(sorted.length - 1, Math.ceil(p / 100 * sorted.length) - 1)] / 1e6;
        }
    }

    public static void main(String[] args) throws Exception {
        int candidates = Integer.getInteger("stem.bench.candidates", 200);
        try (BenchFixture fixture = new BenchFixture(candidates, 100_000)) {
            OrtEnvironment environment = OrtEnvironment.getEnvironment();
            Map<String, OnnxTensor> feeds = feeds(fixture, environment);
            OrtSession fp32 = session(environment, fixture.bundle.file(fixture.bundle.manifest().onnx().file()));
            String altModel = System.getProperty("stem.bench.alt-model");
            OrtSession alt = altModel == null ? null : session(environment, Path.of(altModel));

            byte[] body = json(fixture.request).getBytes(StandardCharsets.UTF_8);
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
            Map<String, Op> sides = new java.util.LinkedHashMap<>();
            sides.put("onnx", () -> fp32.run(feeds).close());
            sides.put("http", send(overHttp.get("http"), body));
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
                sides.put("http-alt", send(overHttp.get("http-alt"), body));
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
                Result warm = saturate(side.getKey() + " warm-up", side.getValue(), overHttp.get(side.getKey()),
                        prometheus.get(side.getKey()), bodyFile, WARMUP_SECONDS);
                for (int seconds = WARMUP_SECONDS; overHttp.containsKey(side.getKey()) && seconds < WARMUP_MAX_SECONDS
                        && jitStillCompiling(warm, WARMUP_UNTIL_JIT_BELOW); seconds += WARMUP_STEP_SECONDS) {
                    warm = saturate(side.getKey() + " warm-up (JIT " + String.format(Locale.ROOT, "%.1f%%", 100 * jitShare(warm)) + ")",
                            side.getValue(), overHttp.get(side.getKey()), prometheus.get(side.getKey()), bodyFile,
                            WARMUP_STEP_SECONDS);
                }
            }
            Map<String, double[]> saturation = new HashMap<>();
            Map<String, double[]> cpu = new HashMap<>();
            Map<String, double[]> serviceCpu = new HashMap<>();
            Map<String, double[]> networkCpu = new HashMap<>();
            for (int round = 0; round < ROUNDS; round++) {
                for (Map.Entry<String, Op> side : sides.entrySet()) {
                    Result result = saturate(side.getKey() + " saturation #" + (round + 1), side.getValue(),
                            overHttp.get(side.getKey()), prometheus.get(side.getKey()), bodyFile, SECONDS);
                    saturation.computeIfAbsent(side.getKey(), k -> new double[ROUNDS])[round] = result.perSecond();
                    cpu.computeIfAbsent(side.getKey(), k -> new double[ROUNDS])[round] = result.cpuMillisPerOp();
                    serviceCpu.computeIfAbsent(side.getKey(), k -> new double[ROUNDS])[round] = result.serviceCpuMillisPerOp();
                    networkCpu.computeIfAbsent(side.getKey(), k -> new double[ROUNDS])[round] = result.networkCpuMillisPerOp();
                }
            }
            Map<String, Result> halfLoad = new HashMap<>();
            for (String name : List.of("onnx", "http", "http-alt")) {
                if (!sides.containsKey(name)) {
                    continue;
                }
                double rate = mean(saturation.get(name)) / 2;
                halfLoad.put(name, openLoop(name + " at 50% (" + String.format(Locale.ROOT, "%.1f", rate) + "/s)",
                        sides.get(name), rate, SECONDS));
            }

            System.out.println();
            System.out.println("side         saturation req/s (per round)        p50 ms @50%   p99 ms @50%   cpu ms/req   (service)");
            for (String name : sides.keySet()) {
                Result half = halfLoad.get(name);
                System.out.printf(Locale.ROOT, "%-12s %8.1f %-26s %11s %13s %12.2f %11.2f%n", name, mean(saturation.get(name)),
                        Arrays.toString(Arrays.stream(saturation.get(name)).map(v -> Math.round(v * 10) / 10.0).toArray()),
                        half == null ? "-" : String.format(Locale.ROOT, "%.2f", half.percentileMillis(50)),
                        half == null ? "-" : String.format(Locale.ROOT, "%.2f", half.percentileMillis(99)),
                        mean(cpu.get(name)), mean(serviceCpu.get(name)));
            }
            printRatios(sides.keySet(), saturation, cpu, serviceCpu, networkCpu);
            System.out.println("service pid for cpu accounting: " + System.getenv("SERVICE_PID"));
            System.out.println("loadavg at end: " + loadavg());
        }
    }

    /**
     * Each side against bare ONNX Runtime, for whichever sides ran with it: throughput, and CPU per request (for
     * {@code http}, the service process's own CPU too: what a saturated deployment pays for the serving).
     */
    private static void printRatios(Set<String> ran, Map<String, double[]> saturation, Map<String, double[]> cpu,
            Map<String, double[]> serviceCpu, Map<String, double[]> networkCpu) {
        if (!ran.contains("onnx")) {
            System.out.println("no ratios: the onnx side did not run");
            return;
        }
        double onnx = mean(saturation.get("onnx"));
        double onnxCpu = mean(cpu.get("onnx"));
        for (String side : ran) {
            if (side.equals("onnx")) {
                continue;
            }
            System.out.printf(Locale.ROOT, "ratio %s/onnx: throughput %.3f, cpu-time onnx/%s %.3f%s%n", side,
                    mean(saturation.get(side)) / onnx, side, onnxCpu / mean(cpu.get(side)),
                    side.startsWith("http") ? String.format(Locale.ROOT, ", onnx/service %.3f (service process only)",
                            onnxCpu / mean(serviceCpu.get(side))) : "");
            if (side.startsWith("http")) {
                System.out.println("  " + ratioInterval(cpu.get("onnx"), serviceCpu.get(side)));
                System.out.println("  " + roundSpread(cpu.get("onnx"), serviceCpu.get(side)));
                System.out.println("  " + networkShare(onnxCpu, mean(serviceCpu.get(side)), mean(networkCpu.get(side))));
            }
        }
    }

    /**
     * A 95% interval for onnx/service, from the rounds resampled with replacement, each round's two sides kept
     * together (a paired bootstrap of the ratio of means): how far the headline ratio would move had the same machine
     * served other rounds like these. It cannot see a drift that outlasts the run, so runs can differ by more.
     */
    static String ratioInterval(double[] onnxCpu, double[] serviceCpu) {
        int rounds = onnxCpu.length;
        double[] resampled = new double[BOOTSTRAP_RESAMPLES];
        // A fixed seed: the same rounds print the same interval.
        Random random = new Random(rounds);
        for (int b = 0; b < resampled.length; b++) {
            double onnx = 0;
            double service = 0;
            for (int i = 0; i < rounds; i++) {
                int round = random.nextInt(rounds);
                onnx += onnxCpu[round];
                service += serviceCpu[round];
            }
            resampled[b] = onnx / service;
        }
        Arrays.sort(resampled);
        return String.format(Locale.ROOT, "onnx/service 95%% interval over the rounds (paired bootstrap): %.3f-%.3f",
                resampled[(int) (0.025 * resampled.length)], resampled[(int) (0.975 * resampled.length) - 1]);
    }

    /**
     * onnx/service of each round on its own (the two sides ran back to back in it): how far one round moves, so that a
     * reader can tell a ratio near a target from one that clears it.
     */
    static String roundSpread(double[] onnxCpu, double[] serviceCpu) {
        double[] ratios = new double[onnxCpu.length];
        for (int round = 0; round < ratios.length; round++) {
            ratios[round] = onnxCpu[round] / serviceCpu[round];
        }
        double[] sorted = ratios.clone();
        Arrays.sort(sorted);
        double median = sorted.length % 2 == 1 ? sorted[sorted.length / 2]
                : (sorted[sorted.length / 2 - 1] + sorted[sorted.length / 2]) / 2;
        return String.format(Locale.ROOT, "onnx/service per round: min %.3f, median %.3f, max %.3f %s", sorted[0], median,
                sorted[sorted.length - 1], Arrays.toString(Arrays.stream(ratios).map(r -> Math.round(r * 1000) / 1000.0)
                        .toArray()));
    }

    /**
     * The service's CPU per request split into ONNX Runtime's part and the rest, and its ONNX Runtime part against the
     * bare side's: whether the gap is the serving around the network or the network running slower in the service.
     */
    static String networkShare(double onnxMillis, double serviceMillis, double networkMillis) {
        if (Double.isNaN(networkMillis)) {
            return "no split into ONNX Runtime and the rest: " + NETWORK_CPU + " was not read";
        }
        return String.format(Locale.ROOT, "service %.2f ms/req = ONNX Runtime %.2f + the rest %.2f; ONNX Runtime in the"
                + " service / bare: %.3f", serviceMillis, networkMillis, serviceMillis - networkMillis,
                networkMillis / onnxMillis);
    }

    /** The sum of {@code stem_network_cpu_seconds_total} over its series (models and versions) in a scrape. */
    static double networkCpuSeconds(String scrape) {
        return new PrometheusScrape(scrape).sum(NETWORK_CPU, Map.of());
    }

    /** NaN without a Prometheus endpoint or when it cannot be read: the split is then not printed. */
    private static double networkCpuSeconds(URI prometheus) {
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
    private static Result saturate(String label, Op op, URI url, URI prometheus, Path body, int seconds)
            throws IOException, InterruptedException {
        return url == null ? closedLoop(label, op, seconds) : wrkClosedLoop(label, url, prometheus, body, seconds);
    }

    /**
     * wrk's script: every request {@code POST}s the JSON file named by {@code WRK_BODY}, and the run ends with the line
     * {@link WrkOutput} reads. wrk counts a non-2xx answer both as a request and as a status error.
     */
    static final String WRK_SCRIPT = """
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

    /**
     * wrk with {@code CONCURRENCY} connections posting {@code body} for {@code seconds}; a 2xx counts as done, anything
     * else as an error. CPU per request counts wrk's (from the shell's {@code times}), this JVM's and the service's.
     */
    private static Result wrkClosedLoop(String label, URI url, URI prometheus, Path body, int seconds)
            throws IOException, InterruptedException {
        String before = loadavg();
        double networkBefore = networkCpuSeconds(prometheus);
        long jitBefore = serviceJitNanos();
        long cpuBefore = cpuNanos();
        long serviceBefore = serviceCpuNanos();
        WrkOutput parsed = wrk(url, body, CONCURRENCY, seconds);
        long ops = parsed.ok();
        Result result = new Result(ops / parsed.seconds(), new long[0], parsed.errors(),
                (cpuNanos() - cpuBefore + parsed.clientCpuNanos()) / 1e6 / ops,
                (serviceCpuNanos() - serviceBefore) / 1e6 / ops,
                (networkCpuSeconds(prometheus) - networkBefore) * 1e3 / ops,
                (serviceJitNanos() - jitBefore) / 1e6 / ops);
        System.out.printf(Locale.ROOT,
                "%-28s %8.1f/s  cpu %.2f ms/req (service %.2f, of it ONNX Runtime %.2f, JIT %.2f; wrk)  errors %d  loadavg %s -> %s%n",
                label, result.perSecond(), result.cpuMillisPerOp(), result.serviceCpuMillisPerOp(),
                result.networkCpuMillisPerOp(), result.jitCpuMillisPerOp(), parsed.errors(), before, loadavg());
        return result;
    }

    /** Runs wrk over {@code connections} connections for {@code seconds}, every request posting {@code body}. */
    static WrkOutput wrk(URI url, Path body, int connections, int seconds) throws IOException, InterruptedException {
        Path script = Files.createTempFile("serving-overhead-", ".lua");
        try {
            Files.writeString(script, WRK_SCRIPT);
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
            return WrkOutput.parse(output);
        } finally {
            Files.deleteIfExists(script);
        }
    }

    /** What the bench reads of {@link #WRK_SCRIPT}'s summary line and of the shell's {@code times} after wrk. */
    record WrkOutput(long ok, long errors, double seconds, long clientCpuNanos) {

        private static final Pattern SUMMARY = Pattern.compile(
                "wrk-summary requests (\\d+) microseconds (\\d+) non-2xx (\\d+) socket-errors (\\d+)");
        private static final Pattern TIMES = Pattern.compile("(\\d+)m([\\d.]+)s (\\d+)m([\\d.]+)s\\s*$");

        static WrkOutput parse(String output) {
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
            return new WrkOutput(ok, nonSuccess + Long.parseLong(summary.group(4)),
                    Long.parseLong(summary.group(2)) / 1e6, (long) (cpuSeconds * 1e9));
        }
    }

    private static Result closedLoop(String label, Op op, int seconds) throws InterruptedException {
        String before = loadavg();
        long cpuBefore = cpuNanos();
        long serviceBefore = serviceCpuNanos();
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
        Result result = new Result(ops / elapsed, new long[0], errors.get(), (cpuNanos() - cpuBefore) / 1e6 / ops,
                (serviceCpuNanos() - serviceBefore) / 1e6 / ops, Double.NaN, Double.NaN);
        System.out.printf(Locale.ROOT, "%-28s %8.1f/s  cpu %.2f ms/req (service %.2f)  errors %d  loadavg %s -> %s%n",
                label, result.perSecond(), result.cpuMillisPerOp(), result.serviceCpuMillisPerOp(), errors.get(),
                before, loadavg());
        return result;
    }

    private static Result openLoop(String label, Op op, double rate, int seconds) throws InterruptedException {
        String before = loadavg();
        int total = (int) (rate * seconds);
        long interval = (long) (1e9 / rate);
        long[] latencies = new long[total];
        AtomicLong errors = new AtomicLong();
        ExecutorService pool = Executors.newFixedThreadPool(OPEN_LOOP_THREADS);
        // Every pool thread runs the operation a few times first: a thread's first ONNX Runtime run and an HTTP
        // connection's first request are slow, and would otherwise land in the measured tail.
        List<java.util.concurrent.Future<?>> warm = new ArrayList<>();
        for (int i = 0; i < OPEN_LOOP_THREADS * 4; i++) {
            warm.add(pool.submit(() -> {
                op.call();
                return null;
            }));
        }
        for (var future : warm) {
            try {
                future.get();
            } catch (java.util.concurrent.ExecutionException e) {
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
        Result result = new Result(rate, latencies, errors.get(), Double.NaN, Double.NaN, Double.NaN, Double.NaN);
        System.out.printf(Locale.ROOT, "%-28s p50 %.2f ms  p99 %.2f ms  errors %d  loadavg %s -> %s%n", label,
                result.percentileMillis(50), result.percentileMillis(99), errors.get(), before, loadavg());
        return result;
    }

    /**
     * {@code POST}s the body with the JDK's blocking {@code HttpURLConnection} on the calling thread; anything but 200
     * is an error. Not the JDK's {@code HttpClient}: it hands every exchange between its own threads and spent
     * 0.8-1.1 ms of CPU per 20-candidate request against 0.3-0.4 ms for this (docs/performance.md), CPU taken from the
     * cores the service needs. Connections are kept alive between requests, up to 64 idle ones.
     */
    static Op send(URI url, byte[] body) throws IOException {
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

    /** Open-loop arrivals: call {@code i} of {@code total} is handed to the pool at {@code start + i * interval}. */
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

    /** CPU time of this JVM plus the service's process (user + system), in nanoseconds. */
    private static long cpuNanos() {
        return ((com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory
                .getOperatingSystemMXBean()).getProcessCpuTime() + serviceCpuNanos();
    }

    /**
     * CPU time of the service processes ({@code SERVICE_PID}, set by scripts/with-service.sh, and
     * {@code ALT_SERVICE_PID} of {@code -Dstem.bench.alt-url}); the one not driven idles meanwhile.
     */
    static long serviceCpuNanos() {
        return processCpuNanos(System.getenv("SERVICE_PID")) + processCpuNanos(System.getenv("ALT_SERVICE_PID"));
    }

    /** 0 without a process id. */
    private static long processCpuNanos(String pid) {
        if (pid == null || pid.isBlank()) {
            return 0;
        }
        try {
            return ProcStat.cpuNanos(Path.of("/proc", pid.trim(), "stat"));
        } catch (IOException | RuntimeException e) {
            return 0;
        }
    }

    /** The JIT compiler threads' share of the service's CPU in a phase; 0 for the sides in this process. */
    static double jitShare(Result result) {
        return Double.isNaN(result.jitCpuMillisPerOp()) || result.serviceCpuMillisPerOp() == 0 ? 0
                : result.jitCpuMillisPerOp() / result.serviceCpuMillisPerOp();
    }

    /** Whether a warm-up phase left the JIT at or above {@code threshold} of the service's CPU; never with 0 (off). */
    static boolean jitStillCompiling(Result warmUp, double threshold) {
        return threshold > 0 && jitShare(warmUp) >= threshold;
    }

    /** CPU time of the service's ({@code SERVICE_PID}'s) JIT compiler threads, from {@code /proc}; 0 without one. */
    private static long serviceJitNanos() {
        String pid = System.getenv("SERVICE_PID");
        if (pid == null || pid.isBlank()) {
            return 0;
        }
        long nanos = 0;
        try (var tasks = Files.list(Path.of("/proc", pid.trim(), "task"))) {
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

    private static double mean(double[] values) {
        return Arrays.stream(values).average().orElse(Double.NaN);
    }

    static String loadavg() {
        try {
            String[] parts = Files.readString(Path.of("/proc/loadavg")).split(" ");
            return parts[0] + " " + parts[1] + " " + parts[2];
        } catch (IOException e) {
            return "?";
        }
    }

    /** The request as the API takes it (ids and values are plain vocabulary strings: no escaping needed). */
    static String json(ScoreRequest request) {
        StringBuilder json = new StringBuilder();
        json.append("{\"requestId\":\"bench\",\"userId\":\"").append(request.userId()).append("\",\"userFeatures\":");
        object(json, request.userFeatures());
        json.append(",\"candidates\":[");
        for (int i = 0; i < request.candidates().size(); i++) {
            Candidate candidate = request.candidates().get(i);
            json.append(i == 0 ? "" : ",").append("{\"itemId\":\"").append(candidate.itemId()).append("\",\"features\":");
            object(json, candidate.features());
            json.append('}');
        }
        return json.append("]}").toString();
    }

    private static void object(StringBuilder json, Map<String, String> values) {
        json.append('{');
        boolean first = true;
        for (Map.Entry<String, String> entry : values.entrySet()) {
            json.append(first ? "" : ",").append('"').append(entry.getKey()).append("\":\"").append(entry.getValue()).append('"');
            first = false;
        }
        json.append('}');
    }
}
