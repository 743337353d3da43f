package dev.stemnet.service.delta.redis;

import ai.onnxruntime.OrtSession.SessionOptions.OptLevel;
import dev.stemnet.service.TestBundle;
import dev.stemnet.service.TestDelta;
import dev.stemnet.service.bundle.BundleLoader;
import dev.stemnet.service.delta.DeltaEvents;
import dev.stemnet.service.embedding.CacheSettings;
import dev.stemnet.service.embedding.CachingEmbeddingStore;
import dev.stemnet.service.embedding.EmbeddingStoreFactory;
import dev.stemnet.service.embedding.redis.RedisConnection;
import dev.stemnet.service.embedding.redis.RedisEmbeddingStore;
import dev.stemnet.service.embedding.redis.RedisKeyLayout;
import dev.stemnet.service.embedding.redis.RedisSettings;
import dev.stemnet.service.inference.DeviceMode;
import dev.stemnet.service.inference.DeviceSelector;
import dev.stemnet.service.inference.GpuProbe;
import dev.stemnet.service.inference.RuntimeSettings;
import dev.stemnet.service.model.LoadedModel;
import dev.stemnet.service.model.ModelLease;
import dev.stemnet.service.model.ModelLoader;
import dev.stemnet.service.model.ModelRegistry;
import dev.stemnet.service.model.ModelRepository;
import dev.stemnet.service.model.NoModelEvents;
import dev.stemnet.service.model.ReloadReport;
import dev.stemnet.service.model.TestModelLoader;
import dev.stemnet.service.scoring.UnknownFeaturePolicy;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import jakarta.validation.Validation;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * One replica of the service as far as deltas in Redis go, in the test's JVM: its own Redis connection, a model
 * repository serving the bundle from Redis behind row caches, the catch-up a loading version does, and a follower.
 */
final class RedisReplica implements AutoCloseable {

    private final RedisConnection redis;
    private final ModelRegistry registry;
    private final ModelRepository models;
    private final RedisDeltaFollower follower;
    private final ReloadReport firstScan;

    /**
     * @param subscribe    false: a replica whose announcements get lost, left to its poll
     * @param pollInterval how often it asks Redis for each version's newest delta
     */
    RedisReplica(String redisUri, Path bundle, boolean subscribe, Duration pollInterval) {
        redis = RedisConnection.open(new RedisSettings(redisUri, false, Duration.ofSeconds(5)));
        SimpleMeterRegistry meters = new SimpleMeterRegistry();
        EmbeddingStoreFactory redisStore = loaded -> new RedisEmbeddingStore(redis,
                new RedisKeyLayout(loaded.manifest().model().name(), loaded.manifest().model().version()),
                loaded.manifest().tables(), meters);
        ModelLoader loader = new ModelLoader(
                new BundleLoader(Validation.buildDefaultValidatorFactory().getValidator()),
                new RuntimeSettings(DeviceMode.AUTO, 1, OptLevel.ALL_OPT),
                CachingEmbeddingStore.factory(redisStore, new CacheSettings(10_000, Map.of()), meters),
                new DeviceSelector(GpuProbe.nvidiaDriver()),
                UnknownFeaturePolicy.REJECT,
                TestModelLoader.PARITY_ONLY,
                new RedisStoredDeltas(redis, new RedisRecordApplier(DeltaEvents.NONE)));
        Path repository = TestBundle.emptyRepository("redis-replica");
        TestBundle.copy(bundle, repository.resolve("stem-net"));
        registry = new ModelRegistry("stem-net", new NoModelEvents());
        models = new ModelRepository(repository, loader, registry, new NoModelEvents());
        firstScan = models.reload();
        follower = new RedisDeltaFollower(redis, registry, new RedisRecordApplier(DeltaEvents.NONE), pollInterval,
                subscribe);
    }

    ReloadReport firstScan() {
        return firstScan;
    }

    RedisDeltaFollower follower() {
        return follower;
    }

    /** The serving version; the test must not use it once the replica is closed. */
    LoadedModel model() {
        try (ModelLease lease = registry.lease("stem-net")) {
            return lease.model();
        }
    }

    long sequence() {
        return model().scorer().embeddings().sequence();
    }

    List<Map<String, Double>> scores(List<String> items) {
        try (ModelLease lease = registry.lease("stem-net")) {
            return TestDelta.scores(lease.model().scorer(), items);
        }
    }

    @Override
    public void close() throws Exception {
        follower.close();
        models.close();
        registry.close();
        redis.close();
    }
}
