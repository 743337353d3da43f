package dev.stemnet.service.config;

import dev.stemnet.service.embedding.redis.RedisSettings;
import jakarta.validation.Valid;
import jakarta.validation.constraints.NotNull;
import java.time.Duration;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.validation.annotation.Validated;

/**
 * {@code stem.embedding.*}: where embedding rows come from. Kept apart from {@link StemProperties} because only
 * the store wiring and the Redis loader command read it.
 *
 * @param store {@code mapped}: the bundle's table files; {@code redis}: Redis, loaded beforehand by the loader
 * @param redis used when {@code store} is {@code redis}, and by the loader
 */
@ConfigurationProperties("stem.embedding")
@Validated
public record EmbeddingStoreProperties(
        @DefaultValue("mapped") @NotNull StoreKind store,
        @DefaultValue @NotNull @Valid Redis redis) {

    public enum StoreKind { MAPPED, REDIS }

    /**
     * @param deltaPollInterval how often each replica reads every serving version's newest delta sequence, besides
     *                          on every announcement: the longest a missed announcement delays a delta
     */
    public record Redis(
            @DefaultValue("redis://localhost:6379") @NotNull String uri,
            @DefaultValue("false") boolean cluster,
            @DefaultValue("250ms") @NotNull Duration timeout,
            @DefaultValue("5s") @NotNull Duration deltaPollInterval) {

        public RedisSettings settings() {
            return new RedisSettings(uri, cluster, timeout);
        }
    }
}
