package dev.stemnet.service.embedding.redis;

import jakarta.validation.constraints.NotNull;
import java.time.Duration;

/**
 * How to reach Redis.
 *
 * @param uri a Lettuce URI, {@code redis://host:port} ({@code rediss://} for TLS); for a cluster any one node,
 *     from which Lettuce discovers the others
 * @param cluster whether {@code uri} names a node of a Redis Cluster
 * @param timeout the deadline of every command: a request whose rows do not arrive in time fails with 503
 */
public record RedisSettings(@NotNull String uri, boolean cluster, @NotNull Duration timeout) {}
