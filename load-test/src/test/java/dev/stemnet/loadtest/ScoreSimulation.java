package dev.stemnet.loadtest;

import static io.gatling.javaapi.core.CoreDsl.StringBody;
import static io.gatling.javaapi.core.CoreDsl.constantUsersPerSec;
import static io.gatling.javaapi.core.CoreDsl.global;
import static io.gatling.javaapi.core.CoreDsl.listFeeder;
import static io.gatling.javaapi.core.CoreDsl.rampUsersPerSec;
import static io.gatling.javaapi.core.CoreDsl.scenario;
import static io.gatling.javaapi.core.CoreDsl.jsonPath;
import static io.gatling.javaapi.http.HttpDsl.http;
import static io.gatling.javaapi.http.HttpDsl.status;

import io.gatling.javaapi.core.OpenInjectionStep;
import io.gatling.javaapi.core.ScenarioBuilder;
import io.gatling.javaapi.http.HttpRequestActionBuilder;
import io.gatling.javaapi.core.Simulation;
import io.gatling.javaapi.http.HttpProtocolBuilder;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Open-model load on {@code POST /v1/score} of a running service. Every setting is a system property
 * (defaults in brackets):
 * <ul>
 *   <li>{@code stem.base.url} [http://localhost:8080], {@code stem.bundle.dir}: the bundle whose vocabularies
 *       the traffic is drawn from (the Maven build passes the served default, build/bundles/stem-net)
 *   <li>{@code stem.profile} [constant]: {@code constant} (rate for the duration), {@code ramp} (1/s up to
 *       rate over the duration) or {@code spike} (rate, then rate x {@code stem.spike.factor} [4] for
 *       {@code stem.spike.seconds} [10], then rate again)
 *   <li>{@code stem.rate} [20] requests per second, {@code stem.duration} [60] seconds
 *   <li>traffic: {@code stem.candidates.min} [50], {@code stem.candidates.max} [500], {@code stem.zipf.exponent}
 *       [1.1], {@code stem.unknown.share} [0.05] of user and ad ids the model has never seen, {@code stem.seed}
 *       [42], {@code stem.bodies} [1000] distinct request bodies, built before the run and sent in turn
 *   <li>assertions: {@code stem.assert.p99-ms} [500, the service's default deadline] and
 *       {@code stem.assert.max-error-pct} [1.0]; any status but 200 (429 and 504 included) is an error
 *   <li>{@code stem.experiment}: a two-arm A/B run against a service started with that experiment file
 *       ({@code make load-test-ab}): every response must carry an arm of layer {@code stem.experiment.layer}
 *       [model] (a response without one fails), and the responses per arm are printed after the run
 * </ul>
 */
public class ScoreSimulation extends Simulation {

    private final String baseUrl = System.getProperty("stem.base.url", "http://localhost:8080");
    private final Path bundleDir = Path.of(System.getProperty("stem.bundle.dir", "../build/bundles/stem-net"));
    private final String profile = System.getProperty("stem.profile", "constant");
    private final double rate = Double.parseDouble(System.getProperty("stem.rate", "20"));
    private final int durationSeconds = Integer.getInteger("stem.duration", 60);
    private final double spikeFactor = Double.parseDouble(System.getProperty("stem.spike.factor", "4"));
    private final int spikeSeconds = Integer.getInteger("stem.spike.seconds", 10);
    private final int bodies = Integer.getInteger("stem.bodies", 1000);
    private final int p99Millis = Integer.getInteger("stem.assert.p99-ms", 500);
    private final double maxErrorPercent = Double.parseDouble(System.getProperty("stem.assert.max-error-pct", "1.0"));
    private final String experiment = System.getProperty("stem.experiment", "");
    /** Null unless this is an A/B run. */
    private final ExperimentArms arms = experiment.isBlank() ? null
            : new ExperimentArms(System.getProperty("stem.experiment.layer", "model"));

    public ScoreSimulation() {
        TrafficGenerator.Settings traffic = TrafficGenerator.Settings.fromSystemProperties();
        TrafficGenerator generator = new TrafficGenerator(BundleVocabulary.read(bundleDir), traffic);
        // Built up front so that the load generator spends its CPU on sending, not on JSON (2-core machine).
        List<Map<String, Object>> records = new ArrayList<>(bodies);
        for (int i = 0; i < bodies; i++) {
            records.add(Map.of("body", generator.nextBody()));
        }
        System.out.printf("stem load test: %s, profile %s at %.1f req/s for %d s, %d-%d candidates, "
                        + "zipf %.2f, unknown share %.2f, %d bodies from %s%s%n",
                baseUrl, profile, rate, durationSeconds, traffic.minCandidates(), traffic.maxCandidates(),
                traffic.zipfExponent(), traffic.unknownShare(), bodies, bundleDir,
                arms == null ? "" : ", A/B experiment " + experiment + " (layer " + arms.layer() + ")");

        HttpProtocolBuilder protocol = http.baseUrl(baseUrl)
                .contentTypeHeader("application/json")
                .acceptHeader("application/json")
                // An ad server keeps a connection pool to the scorer; a new TCP connection per request is not realistic.
                .shareConnections();

        HttpRequestActionBuilder post = http("POST /v1/score")
                .post("/v1/score")
                .body(StringBody("#{body}"))
                .check(status().is(200));
        ScenarioBuilder score = scenario("score").feed(listFeeder(records).circular());
        if (arms == null) {
            score = score.exec(post);
        } else {
            score = score
                    .exec(post.check(jsonPath(arms.armPath()).find().saveAs("arm")))
                    .exec(session -> {
                        if (session.contains("arm")) {
                            arms.record(session.getString("arm"));
                        }
                        return session.remove("arm");
                    });
        }

        setUp(score.injectOpen(injection()))
                .protocols(protocol)
                .assertions(
                        global().responseTime().percentile(99.0).lt(p99Millis),
                        global().failedRequests().percent().lt(maxErrorPercent));
    }

    @Override
    public void after() {
        if (arms != null) {
            System.out.println(arms.summary());
        }
    }

    private OpenInjectionStep[] injection() {
        Duration duration = Duration.ofSeconds(durationSeconds);
        return switch (profile) {
            case "constant" -> new OpenInjectionStep[] {constantUsersPerSec(rate).during(duration)};
            case "ramp" -> new OpenInjectionStep[] {rampUsersPerSec(1).to(rate).during(duration)};
            case "spike" -> {
                Duration calm = Duration.ofSeconds(Math.max(1, (durationSeconds - spikeSeconds) / 2));
                yield new OpenInjectionStep[] {
                    constantUsersPerSec(rate).during(calm),
                    constantUsersPerSec(rate * spikeFactor).during(Duration.ofSeconds(spikeSeconds)),
                    constantUsersPerSec(rate).during(calm)
                };
            }
            default -> throw new IllegalArgumentException(
                    "stem.profile must be constant, ramp or spike, got '" + profile + "'");
        };
    }
}
