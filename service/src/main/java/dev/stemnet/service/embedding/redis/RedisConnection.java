package dev.stemnet.service.embedding.redis;

import dev.stemnet.service.embedding.EmbeddingStoreStatus;
import dev.stemnet.service.embedding.EmbeddingStoreStatus.State;
import io.lettuce.core.AbstractRedisClient;
import io.lettuce.core.ClientOptions;
import io.lettuce.core.ClientOptions.DisconnectedBehavior;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisConnectionException;
import io.lettuce.core.RedisURI;
import io.lettuce.core.TimeoutOptions;
import io.lettuce.core.api.StatefulConnection;
import io.lettuce.core.cluster.ClusterClientOptions;
import io.lettuce.core.cluster.ClusterTopologyRefreshOptions;
import io.lettuce.core.cluster.RedisClusterClient;
import io.lettuce.core.cluster.api.sync.RedisClusterCommands;
import io.lettuce.core.codec.ByteArrayCodec;
import io.lettuce.core.pubsub.StatefulRedisPubSubConnection;
import io.lettuce.core.resource.ClientResources;
import io.lettuce.core.resource.Delay;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.core.NestedExceptionUtils;

/**
 * One Lettuce client and one thread-safe connection to a standalone Redis or a Redis Cluster, shared by every
 * model version. Lettuce reconnects on its own; while it is disconnected commands are rejected at once
 * instead of queueing, so requests fail fast and nothing piles up to be replayed later.
 *
 * <p>Lettuce reconnects only connections it once had: a first connection that fails is the caller's to retry.
 * {@link #openRetrying} does so in the background, with the same back-off, so that a Redis that is down, or
 * slow to answer the handshake, when the service starts delays readiness instead of ending the process.
 */
public final class RedisConnection implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(RedisConnection.class);

    /**
     * Lettuce's default back-off grows to 30 s, which would keep a replica failing long after Redis is back;
     * one attempt a second at most costs Redis nothing.
     */
    private static final Delay RECONNECT_DELAY =
            Delay.exponential(Duration.ofMillis(10), Duration.ofSeconds(1), 2, TimeUnit.MILLISECONDS);
    /** The deadline of a loader command's Redis commands, handshake included (see {@link #openForLoader}). */
    public static final Duration LOADER_TIMEOUT = Duration.ofSeconds(10);
    /** A Redis that stays away is tried every second; the log says so once, then this often. */
    private static final Duration UNREACHABLE_LOG_INTERVAL = Duration.ofSeconds(30);

    private record Link(StatefulConnection<byte[], byte[]> connection, RedisClusterCommands<byte[], byte[]> commands) {}

    private final ClientResources resources;
    private final AbstractRedisClient client;
    private final Supplier<CompletionStage<Link>> connector;
    private final Supplier<StatefulRedisPubSubConnection<byte[], byte[]>> pubSubConnector;
    private final String description;
    /** Null until the first connection is made. */
    private volatile Link link;
    private volatile String unreachableReason = "not tried yet";
    private boolean closed;

    /** Only the chain of first-connection attempts touches these, one attempt after the other. */
    private long failedAttempts;
    private long lastLoggedNanos;

    private RedisConnection(ClientResources resources, AbstractRedisClient client,
            Supplier<CompletionStage<Link>> connector,
            Supplier<StatefulRedisPubSubConnection<byte[], byte[]>> pubSubConnector, String description) {
        this.resources = resources;
        this.client = client;
        this.connector = connector;
        this.pubSubConnector = pubSubConnector;
        this.description = description;
    }

    /**
     * Connects now, for a command that has nothing to do without Redis (the loader).
     *
     * @throws io.lettuce.core.RedisConnectionException when Redis cannot be reached now
     */
    public static RedisConnection open(RedisSettings settings) {
        return connectNow(create(settings, DisconnectedBehavior.REJECT_COMMANDS));
    }

    /**
     * Connects now, for a one-shot loader command. A loader shares its machine with serving replicas, where a
     * handshake or a command can take longer than a serving request may wait: its commands get
     * {@link #LOADER_TIMEOUT} (or the configured timeout, if longer) and wait out a dropped connection instead of
     * failing the load half-way.
     *
     * @throws io.lettuce.core.RedisConnectionException when Redis cannot be reached now
     */
    public static RedisConnection openForLoader(RedisSettings settings) {
        Duration timeout = settings.timeout().compareTo(LOADER_TIMEOUT) > 0 ? settings.timeout() : LOADER_TIMEOUT;
        return connectNow(create(new RedisSettings(settings.uri(), settings.cluster(), timeout),
                DisconnectedBehavior.ACCEPT_COMMANDS));
    }

    private static RedisConnection connectNow(RedisConnection redis) {
        try {
            redis.link = redis.connector.get().toCompletableFuture().join();
            return redis;
        } catch (CompletionException e) {
            redis.close();
            throw e.getCause() instanceof RuntimeException cause ? cause : e;
        } catch (RuntimeException e) {
            redis.close();
            throw e;
        }
    }

    /**
     * Connects now if Redis answers; otherwise returns all the same and keeps trying in the background until it
     * does. Until then {@link #commands()} fails with {@link RedisConnectionException} and {@link #status()} says why.
     */
    public static RedisConnection openRetrying(RedisSettings settings) {
        RedisConnection redis = create(settings, DisconnectedBehavior.REJECT_COMMANDS);
        redis.attempt().toCompletableFuture().join();
        return redis;
    }

    private static RedisConnection create(RedisSettings settings, DisconnectedBehavior whileDisconnected) {
        RedisURI uri = RedisURI.create(settings.uri());
        uri.setTimeout(settings.timeout());
        TimeoutOptions timeouts = TimeoutOptions.enabled(settings.timeout());
        ClientResources resources = ClientResources.builder().reconnectDelay(RECONNECT_DELAY).build();
        if (settings.cluster()) {
            RedisClusterClient client = RedisClusterClient.create(resources, uri);
            client.setOptions(ClusterClientOptions.builder()
                    .autoReconnect(true)
                    .disconnectedBehavior(whileDisconnected)
                    .timeoutOptions(timeouts)
                    // Follow failovers and resharding: MOVED/ASK answers and lost nodes trigger a refresh.
                    .topologyRefreshOptions(ClusterTopologyRefreshOptions.builder()
                            .enableAllAdaptiveRefreshTriggers()
                            .enablePeriodicRefresh(Duration.ofMinutes(1))
                            .build())
                    .build());
            return new RedisConnection(resources, client,
                    // Connecting asynchronously needs the topology first; a retry loads it again.
                    () -> client.refreshPartitionsAsync()
                            .thenCompose(topology -> client.connectAsync(ByteArrayCodec.INSTANCE))
                            .thenApply(c -> new Link(c, c.sync())),
                    // A cluster delivers every PUBLISH to every node: one subscription, to any node, hears all.
                    () -> client.connectPubSub(ByteArrayCodec.INSTANCE),
                    "Redis Cluster via " + hostAndPort(uri));
        }
        RedisClient client = RedisClient.create(resources, uri);
        client.setOptions(ClientOptions.builder()
                .autoReconnect(true)
                .disconnectedBehavior(whileDisconnected)
                .timeoutOptions(timeouts)
                .build());
        return new RedisConnection(resources, client,
                () -> client.connectAsync(ByteArrayCodec.INSTANCE, uri).thenApply(c -> new Link(c, c.sync())),
                () -> client.connectPubSub(ByteArrayCodec.INSTANCE, uri),
                "Redis " + hostAndPort(uri));
    }

    private CompletionStage<Void> attempt() {
        CompletionStage<Link> connecting;
        try {
            connecting = connector.get();
        } catch (RuntimeException e) {
            connecting = CompletableFuture.failedFuture(e);
        }
        return connecting.handle((connected, failure) -> {
            if (failure == null) {
                connected(connected);
            } else {
                failed(failure instanceof CompletionException && failure.getCause() != null ? failure.getCause() : failure);
            }
            return null;
        });
    }

    private void connected(Link connected) {
        synchronized (this) {
            if (closed) {
                connected.connection().closeAsync();
                return;
            }
            link = connected;
        }
        if (failedAttempts > 0) {
            log.info("Connected to {} after {} failed attempts", description, failedAttempts);
        }
    }

    private void failed(Throwable failure) {
        failedAttempts++;
        unreachableReason = describe(failure);
        long now = System.nanoTime();
        if (failedAttempts == 1) {
            lastLoggedNanos = now;
            log.warn("Cannot reach {}: {}. Models that read it cannot load; trying again in the background",
                    description, unreachableReason);
        } else if (now - lastLoggedNanos >= UNREACHABLE_LOG_INTERVAL.toNanos()) {
            lastLoggedNanos = now;
            log.warn("Still cannot reach {} after {} attempts: {}", description, failedAttempts, unreachableReason);
        }
        synchronized (this) {
            if (!closed) {
                Duration delay = RECONNECT_DELAY.createDelay(failedAttempts);
                resources.eventExecutorGroup().schedule(this::attempt, delay.toNanos(), TimeUnit.NANOSECONDS);
            }
        }
    }

    /** Lettuce's message names the address; the root cause says what went wrong there (refused, timed out, ...). */
    private static String describe(Throwable failure) {
        Throwable root = NestedExceptionUtils.getMostSpecificCause(failure);
        return root == failure || root.getMessage() == null
                ? failure.getMessage()
                : failure.getMessage() + ": " + root.getMessage();
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
     *
     * @throws RedisConnectionException while the first connection has not been made
     */
    public RedisClusterCommands<byte[], byte[]> commands() {
        Link current = link;
        if (current == null) {
            throw new RedisConnectionException("not connected since the service started: " + unreachableReason);
        }
        return current.commands();
    }

    /**
     * A connection of its own for pub/sub (a subscribed connection takes no other commands); Lettuce reconnects it
     * and subscribes again by itself. The caller closes it.
     *
     * @throws io.lettuce.core.RedisException when Redis cannot be reached now
     */
    public StatefulRedisPubSubConnection<byte[], byte[]> connectPubSub() {
        return pubSubConnector.get();
    }

    public EmbeddingStoreStatus status() {
        Link current = link;
        if (current == null) {
            return new EmbeddingStoreStatus(description, State.UNREACHABLE, unreachableReason);
        }
        return current.connection().isOpen()
                ? EmbeddingStoreStatus.available(description)
                : new EmbeddingStoreStatus(description, State.RECONNECTING, "connection lost; reconnecting");
    }

    @Override
    public String toString() {
        return description;
    }

    @Override
    public void close() {
        Link current;
        synchronized (this) {
            closed = true;
            current = link;
        }
        if (current != null) {
            current.connection().close();
        }
        shutDown(resources, client);
    }
}
