package dev.stemnet.service.config;

import ai.onnxruntime.OrtSession.SessionOptions.OptLevel;
import dev.stemnet.service.bundle.BundleLoader;
import dev.stemnet.service.bundle.Manifest;
import dev.stemnet.service.bundle.ModelBundle;
import dev.stemnet.service.delta.DeltaAttempt;
import dev.stemnet.service.delta.DeltaLog;
import dev.stemnet.service.delta.DeltaReader;
import dev.stemnet.service.delta.DeltaRefusedException;
import dev.stemnet.service.delta.DeltaTarget;
import dev.stemnet.service.delta.redis.RedisDeltaLoader;
import dev.stemnet.service.delta.redis.RedisDeltaRecords;
import dev.stemnet.service.embedding.redis.RedisConnection;
import dev.stemnet.service.embedding.redis.RedisEmbeddingStore;
import dev.stemnet.service.embedding.redis.RedisKeyLayout;
import dev.stemnet.service.inference.DeviceMode;
import dev.stemnet.service.inference.DeviceSelector;
import dev.stemnet.service.inference.GpuProbe;
import dev.stemnet.service.inference.OnnxModel;
import dev.stemnet.service.inference.RuntimeSettings;
import dev.stemnet.service.scoring.Scorer;
import dev.stemnet.service.scoring.UnknownFeaturePolicy;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import jakarta.validation.Validation;
import jakarta.validation.ValidatorFactory;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.springframework.boot.ApplicationRunner;
import org.springframework.boot.ExitCodeGenerator;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.annotation.Bean;
import org.springframework.core.env.SimpleCommandLinePropertySource;

/**
 * {@code java -jar stem-net-service.jar --stem.embedding.redis.load-delta=<delta dir>
 * --stem.embedding.redis.delta-base=<bundle dir> [--stem.embedding.redis.uri=...]}: checks the delta against the
 * bundle and what Redis holds of it (the bundle's rows and the deltas loaded before), scores its fixtures with the
 * Redis rows and the delta's staged in memory, then writes its rows and record and announces it to every replica
 * (docs/bundle-format.md, "Deltas"; service/README.md, "Deltas"). Exits 0 when the delta was loaded or was loaded
 * before, 1 when it was refused (nothing written), 2 when it could not run. Starts no web server and loads no
 * model; deliberately not a {@code @Configuration}, so the service's component scan leaves it out.
 */
public class RedisDeltaCommand {

    public static final String DELTA_PROPERTY = "stem.embedding.redis.load-delta";
    public static final String BASE_PROPERTY = "stem.embedding.redis.delta-base";
    static final int REFUSED = 1;
    static final int FAILED = 2;

    public static boolean isRequested(String[] args) {
        return new SimpleCommandLinePropertySource(args).containsProperty(DELTA_PROPERTY);
    }

    /** @return the process exit code */
    public static int run(String[] args) {
        return OneShotCommand.run(Wiring.class, args, FAILED);
    }

    @EnableConfigurationProperties(EmbeddingStoreProperties.class)
    static class Wiring {

        private final AtomicInteger exitCode = new AtomicInteger();

        @Bean
        ExitCodeGenerator deltaExitCode() {
            return exitCode::get;
        }

        @Bean
        ApplicationRunner loadDeltaIntoRedis(EmbeddingStoreProperties properties) {
            return arguments -> {
                List<String> base = arguments.getOptionValues(BASE_PROPERTY);
                if (base == null || base.isEmpty()) {
                    System.err.println("--" + BASE_PROPERTY + "=<bundle dir> is required: the bundle the delta"
                            + " was trained from, as it was loaded into Redis");
                    exitCode.set(FAILED);
                    return;
                }
                Path deltaDir = Path.of(arguments.getOptionValues(DELTA_PROPERTY).get(0));
                try (ValidatorFactory validation = Validation.buildDefaultValidatorFactory()) {
                    ModelBundle bundle = new BundleLoader(validation.getValidator()).load(Path.of(base.get(0)));
                    try (RedisConnection redis = RedisConnection.openForLoader(properties.redis().settings())) {
                        exitCode.set(load(deltaDir, bundle, redis, new DeltaReader(validation.getValidator())));
                    }
                } catch (RuntimeException e) {
                    // The base bundle refused, Redis unreachable or without the bundle's rows: said in one line.
                    System.err.println("Cannot load delta " + deltaDir + " into Redis: " + e.getMessage());
                    exitCode.set(FAILED);
                }
            };
        }

        private static int load(Path deltaDir, ModelBundle bundle, RedisConnection redis, DeltaReader reader) {
            Manifest manifest = bundle.manifest();
            RedisKeyLayout keys = new RedisKeyLayout(manifest.model().name(), manifest.model().version());
            // No row cache: the fixtures are scored with exactly what Redis holds.
            RedisEmbeddingStore store = new RedisEmbeddingStore(redis, keys, manifest.tables(), new SimpleMeterRegistry());
            try (OnnxModel network = OnnxModel.open(bundle.file(manifest.onnx().file()), manifest.onnx(),
                    new RuntimeSettings(DeviceMode.CPU, 1, OptLevel.ALL_OPT), new DeviceSelector(GpuProbe.nvidiaDriver()))) {
                Scorer scorer = new Scorer(bundle, store, network, UnknownFeaturePolicy.REJECT);
                DeltaTarget target = new DeltaTarget(manifest, scorer, store, new DeltaLog());
                RedisDeltaLoader.Result result;
                try {
                    result = new RedisDeltaLoader(redis, reader).load(deltaDir, target, new RedisDeltaRecords(redis, keys));
                } catch (DeltaRefusedException e) {
                    System.err.printf("Refused delta %s for %s version %s (%s); nothing was written to %s:%n  %s%n",
                            deltaDir, manifest.model().name(), manifest.model().version(), e.reason().label(), redis,
                            e.getMessage());
                    return REFUSED;
                }
                if (result.outcome() == DeltaAttempt.Outcome.SKIPPED) {
                    System.out.printf("Delta %d of %s version %s is in %s already (%s holds sequence %d); nothing to"
                            + " do%n", result.sequence(), manifest.model().name(), manifest.model().version(), redis,
                            new String(keys.deltasKey()), scorer.embeddings().sequence());
                    return 0;
                }
                System.out.printf("Loaded delta %d of %s version %s from %s into %s (parity fixtures pass, largest"
                        + " difference %s):%n", result.sequence(), manifest.model().name(), manifest.model().version(),
                        deltaDir, redis, result.parityDifference());
                result.rowsByTable().entrySet().forEach(table ->
                        System.out.printf("  table %-20s %10d rows written, every row verified%n", table.getKey(),
                                table.getValue()));
                System.out.printf("  record %s, %s = %d, announced on channel %s to %d subscribers%n",
                        new String(keys.deltaRecordKey(result.sequence())), new String(keys.deltasKey()),
                        result.sequence(), keys.deltasChannel(), result.subscribers());
                return 0;
            }
        }
    }
}
