package dev.stemnet.service.config;

import dev.stemnet.service.config.EmbeddingStoreProperties.StoreKind;
import dev.stemnet.service.delta.DeltaEvents;
import dev.stemnet.service.delta.redis.RedisDeltaFollower;
import dev.stemnet.service.delta.redis.RedisRecordApplier;
import dev.stemnet.service.delta.redis.RedisStoredDeltas;
import dev.stemnet.service.embedding.CachingEmbeddingStore;
import dev.stemnet.service.embedding.EmbeddingStoreFactory;
import dev.stemnet.service.embedding.EmbeddingStoreStatus;
import dev.stemnet.service.embedding.redis.RedisConnection;
import dev.stemnet.service.embedding.redis.RedisEmbeddingStore;
import dev.stemnet.service.embedding.redis.RedisKeyLayout;
import dev.stemnet.service.model.ModelRegistry;
import dev.stemnet.service.model.StoredDeltas;
import io.micrometer.core.instrument.MeterRegistry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * Chooses the embedding store ({@code stem.embedding.store}) and, for Redis, puts the per-table caches in front of
 * it, where a hit saves a network round trip. The mapped files get no row cache: their pages are in memory already,
 * and reading rows there takes about a third of the time a cache takes to look them up (JMH `fetchMappedOnly`
 * against `fetchCacheHit`, docs/history/performance-2026-11.md, section 3).
 * The Redis connection is a bean of its own so that Spring closes it on shutdown, after the models. A Redis
 * that does not answer at start does not stop the service: it connects in the background and the models load
 * once it answers (the model repository tries again), while readiness says what it waits for.
 */
@Configuration(proxyBeanMethods = false)
class EmbeddingStoreConfiguration {

    private static final Logger log = LoggerFactory.getLogger(EmbeddingStoreConfiguration.class);
    private static final String MAPPED_FILES = "the bundles' memory-mapped table files";

    @Bean(destroyMethod = "close")
    @ConditionalOnProperty(name = "stem.embedding.store", havingValue = "redis")
    RedisConnection redisConnection(EmbeddingStoreProperties properties) {
        return RedisConnection.openRetrying(properties.redis().settings());
    }

    @Bean
    EmbeddingStoreStatus.Source embeddingStoreStatus(EmbeddingStoreProperties embedding,
            ObjectProvider<RedisConnection> redis) {
        if (embedding.store() == StoreKind.REDIS) {
            return redis.getObject()::status;
        }
        EmbeddingStoreStatus mapped = EmbeddingStoreStatus.available(MAPPED_FILES);
        return () -> mapped;
    }

    /** Mapped files hold the bundle's rows only: a version starts from the bundle's state and fixtures. */
    @Bean
    @ConditionalOnProperty(name = "stem.embedding.store", havingValue = "mapped", matchIfMissing = true)
    StoredDeltas noStoredDeltas() {
        return StoredDeltas.NONE;
    }

    /** A version loading from Redis applies the deltas loaded there before it, then checks the newest one's fixtures. */
    @Bean
    @ConditionalOnProperty(name = "stem.embedding.store", havingValue = "redis")
    StoredDeltas redisStoredDeltas(RedisConnection redis, DeltaEvents events) {
        return new RedisStoredDeltas(redis, new RedisRecordApplier(events));
    }

    /** Every replica follows the deltas the loader writes into Redis: announcements, and a poll for missed ones. */
    @Bean(destroyMethod = "close")
    @ConditionalOnProperty(name = "stem.embedding.store", havingValue = "redis")
    RedisDeltaFollower redisDeltaFollower(RedisConnection redis, ModelRegistry registry, DeltaEvents events,
            EmbeddingStoreProperties properties) {
        return new RedisDeltaFollower(redis, registry, new RedisRecordApplier(events),
                properties.redis().deltaPollInterval());
    }

    @Bean
    EmbeddingStoreFactory embeddingStoreFactory(EmbeddingStoreProperties embedding, StemProperties properties,
            ObjectProvider<RedisConnection> redis, MeterRegistry meterRegistry) {
        if (embedding.store() != StoreKind.REDIS) {
            log.info("Embedding rows come from the bundles' memory-mapped table files, without row caches");
            return EmbeddingStoreFactory.mappedFiles();
        }
        log.info("Embedding rows come from {}, behind per-table row caches", redis.getObject());
        EmbeddingStoreFactory backing = bundle -> new RedisEmbeddingStore(
                redis.getObject(),
                new RedisKeyLayout(bundle.manifest().model().name(), bundle.manifest().model().version()),
                bundle.manifest().tables(),
                meterRegistry);
        return CachingEmbeddingStore.factory(backing, properties.cache(), meterRegistry);
    }
}
