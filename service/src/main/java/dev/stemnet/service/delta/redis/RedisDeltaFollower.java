package dev.stemnet.service.delta.redis;

import dev.stemnet.service.delta.DeltaAttempt;
import dev.stemnet.service.embedding.redis.RedisConnection;
import dev.stemnet.service.embedding.redis.RedisKeyLayout;
import dev.stemnet.service.metrics.LogThrottle;
import dev.stemnet.service.model.LoadedModel;
import dev.stemnet.service.model.ModelLease;
import dev.stemnet.service.model.ModelRegistry;
import dev.stemnet.service.model.ServingModel;
import io.lettuce.core.pubsub.RedisPubSubAdapter;
import io.lettuce.core.pubsub.StatefulRedisPubSubConnection;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps every serving version that reads Redis up to the deltas the loader writes there, on every replica: it
 * subscribes to the loader's announcements ({@code stem:*:deltas}) to apply a delta within moments, and also asks
 * Redis for each version's newest sequence every poll interval, so that a message missed (a restart, a network blip,
 * a subscription not made yet) is caught up on its own. Applies on one thread of its own, never on Lettuce's event
 * loop and never on a request's thread. A record a version refused is not tried again for that version: it needs
 * an operator (the admin view and {@code stem_deltas_total} show it).
 */
public final class RedisDeltaFollower implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(RedisDeltaFollower.class);

    private final RedisConnection redis;
    private final ModelRegistry registry;
    private final RedisRecordApplier applier;
    private final ScheduledExecutorService thread = Executors.newSingleThreadScheduledExecutor(runnable -> {
        Thread worker = new Thread(runnable, "redis-deltas");
        worker.setDaemon(true);
        return worker;
    });
    /** A catch-up already queued: a burst of messages queues one. */
    private final AtomicBoolean queued = new AtomicBoolean();
    /** By version: the sequence it refused. On the follower's thread only, but read by tests. */
    private final Map<LoadedModel, Long> refused = new ConcurrentHashMap<>();
    private final LogThrottle failureLog = new LogThrottle(Duration.ofMinutes(1), System::nanoTime);
    private final boolean subscribe;
    private volatile StatefulRedisPubSubConnection<byte[], byte[]> subscription;

    /** @param pollInterval how often each serving version's newest sequence is read, besides on every message */
    public RedisDeltaFollower(RedisConnection redis, ModelRegistry registry, RedisRecordApplier applier,
            Duration pollInterval) {
        this(redis, registry, applier, pollInterval, true);
    }

    /** @param subscribe false for a replica that hears no announcement: tests of the poll */
    RedisDeltaFollower(RedisConnection redis, ModelRegistry registry, RedisRecordApplier applier, Duration pollInterval,
            boolean subscribe) {
        this.redis = redis;
        this.registry = registry;
        this.applier = applier;
        this.subscribe = subscribe;
        thread.scheduleWithFixedDelay(this::poll, 0, pollInterval.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** Whether the subscription to the loader's announcements is made (Lettuce keeps it across reconnects). */
    public boolean subscribed() {
        return subscription != null;
    }

    private void poll() {
        subscribeIfNotYet();
        catchUpServingVersions();
    }

    private void subscribeIfNotYet() {
        if (!subscribe || subscription != null) {
            return;
        }
        try {
            StatefulRedisPubSubConnection<byte[], byte[]> connection = redis.connectPubSub();
            connection.addListener(new RedisPubSubAdapter<>() {
                @Override
                public void message(byte[] pattern, byte[] channel, byte[] message) {
                    queueCatchUp();
                }
            });
            connection.sync().psubscribe(RedisKeyLayout.deltasChannelPattern().getBytes());
            subscription = connection;
            log.info("Following deltas on {}: subscribed to {}", redis, RedisKeyLayout.deltasChannelPattern());
        } catch (RuntimeException e) {
            if (failureLog.admit("subscribe").isPresent()) {
                log.warn("Cannot subscribe to delta announcements on {} yet ({}); polling meanwhile", redis,
                        e.getMessage());
            }
        }
    }

    private void queueCatchUp() {
        if (queued.compareAndSet(false, true)) {
            thread.execute(() -> {
                queued.set(false);
                catchUpServingVersions();
            });
        }
    }

    private void catchUpServingVersions() {
        List<ServingModel> serving = registry.serving();
        refused.keySet().retainAll(serving.stream().map(ServingModel::model).toList());
        for (ServingModel version : serving) {
            ModelLease lease = version.tryLease();
            if (lease == null) {
                continue;
            }
            try (lease) {
                catchUp(lease.model());
            } catch (RuntimeException e) {
                if (failureLog.admit("catch-up " + version.name()).isPresent()) {
                    log.warn("Cannot catch up the deltas of {} version {} from {}: {}", version.name(),
                            version.version(), redis, e.getMessage());
                }
            }
        }
    }

    private void catchUp(LoadedModel model) {
        var info = model.manifest().model();
        RedisDeltaRecords records = new RedisDeltaRecords(redis, new RedisKeyLayout(info.name(), info.version()));
        Long refusedSequence = refused.get(model);
        if (refusedSequence != null && refusedSequence == model.scorer().embeddings().sequence() + 1) {
            return;
        }
        for (DeltaAttempt attempt : applier.catchUp(records, model.deltaTarget())) {
            if (attempt.outcome() == DeltaAttempt.Outcome.REFUSED) {
                refused.put(model, attempt.sequence());
            }
        }
    }

    @Override
    public void close() throws InterruptedException {
        thread.shutdownNow();
        thread.awaitTermination(10, TimeUnit.SECONDS);
        StatefulRedisPubSubConnection<byte[], byte[]> connection = subscription;
        if (connection != null) {
            connection.close();
        }
    }
}
