package dev.stemnet.service.embedding.redis;

import io.lettuce.core.AbstractRedisClient;
import io.lettuce.core.ClientOptions;
import io.lettuce.core.ClientOptions.DisconnectedBehavior;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.lettuce.core.TimeoutOptions;
import io.lettuce.core.api.StatefulConnection;
import io.lettuce.core.cluster.ClusterClientOptions;
import io.lettuce.core.cluster.ClusterTopologyRefreshOptions;
import io.lettuce.core.cluster.RedisClusterClient;
import io.lettuce.core.cluster.api.sync.RedisClusterCommands;
import io.lettuce.core.codec.ByteArrayCodec;
import io.lettuce.core.resource.ClientResources;
import io.lettuce.core.resource.Delay;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * One Lettuce client and one thread-safe connection to a standalone Redis or a Redis Cluster, shared by every
 * model version. Lettuce reconnects on its own; while it is disconnected commands are rejected at once
 * instead of queueing, so requests fail fast and nothing piles up to be replayed later.
 */
public final class RedisConnection implements AutoCloseable {

    /**
     * Lettuce's default back-off grows to 30 s, which would keep a replica failing long after Redis is back;
     * one attempt a second at most costs Redis nothing.
     */
    private static final Delay RECONNECT_DELAY =
            Delay.exponential(Duration.ofMillis(10), Duration.ofSeconds(1), 2, TimeUnit.MILLISECONDS);

    private final ClientResources resources;
    private final AbstractRedisClient client;
    private final StatefulConnection<byte[], byte[]> connection;
    private final RedisClusterCommands<byte[], byte[]> commands;
    private final String description;

    private RedisConnection(ClientResources resources, AbstractRedisClient client,
            StatefulConnection<byte[], byte[]> connection, RedisClusterCommands<byte[], byte[]> commands,
            String description) {
        this.resources = resources;
        this.client = client;
        this.connection = connection;
        this.commands = commands;
        this.description = description;
    }

    /** @throws io.lettuce.core.RedisConnectionException when Redis cannot be reached now */
    public static RedisConnection open(RedisSettings settings) {
        RedisURI uri = RedisURI.create(settings.uri());
        uri.setTimeout(settings.timeout());
        TimeoutOptions timeouts = TimeoutOptions.enabled(settings.timeout());
        ClientResources resources = ClientResources.builder().reconnectDelay(RECONNECT_DELAY).build();
        if (settings.cluster()) {
            RedisClusterClient client = RedisClusterClient.create(resources, uri);
            client.setOptions(ClusterClientOptions.builder()
                    .autoReconnect(true)
                    .disconnectedBehavior(DisconnectedBehavior.REJECT_COMMANDS)
                    .timeoutOptions(timeouts)
                    // Follow failovers and resharding: MOVED/ASK answers and lost nodes trigger a refresh.
                    .topologyRefreshOptions(ClusterTopologyRefreshOptions.builder()
                            .enableAllAdaptiveRefreshTriggers()
                            .enablePeriodicRefresh(Duration.ofMinutes(1))
                            .build())
                    .build());
            return connect(resources, client, () -> {
                var connection = client.connect(ByteArrayCodec.INSTANCE);
                return new RedisConnection(resources, client, connection, connection.sync(),
                        "Redis Cluster via " + hostAndPort(uri));
            });
        }
        RedisClient client = RedisClient.create(resources, uri);
        client.setOptions(ClientOptions.builder()
                .autoReconnect(true)
                .disconnectedBehavior(DisconnectedBehavior.REJECT_COMMANDS)
                .timeoutOptions(timeouts)
                .build());
        return connect(resources, client, () -> {
            var connection = client.connect(ByteArrayCodec.INSTANCE);
            return new RedisConnection(resources, client, connection, connection.sync(), "Redis " + hostAndPort(uri));
        });
    }

    private static RedisConnection connect(ClientResources resources, AbstractRedisClient client,
            Supplier<RedisConnection> connect) {
        try {
            return connect.get();
        } catch (RuntimeException e) {
            shutDown(resources, client);
            throw e;
        }
    }

    /** The client does not shut down resources it was given. */
    private static void shutDown(ClientResources resources, AbstractRedisClient client) {
        client.shutdown();
        resources.shutdown(0, 2, TimeUnit.SECONDS).awaitUninterruptibly();
    }

    /** Without the rest of the URI, which may hold a password. */
    private static String hostAndPort(RedisURI uri) {
        return uri.getHost() + ":" + uri.getPort();
    }

    /**
     * Synchronous commands; on a cluster connection multi-key commands such as {@code MGET} and {@code MSET}
     * are split by slot and sent to each node in parallel.
     */
    public RedisClusterCommands<byte[], byte[]> commands() {
        return commands;
    }

    @Override
    public String toString() {
        return description;
    }

    @Override
    public void close() {
        connection.close();
        shutDown(resources, client);
    }
}
