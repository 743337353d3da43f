package dev.stemnet.service.delta.redis;

import dev.stemnet.service.embedding.redis.RedisConnection;
import dev.stemnet.service.embedding.redis.RedisKeyLayout;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.SetArgs;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.UUID;

/**
 * Lets one delta loader at a time write into a model version's keys: two loaders checking their deltas against the
 * same state and then both writing rows would leave a mix of the two. The lock is a key set only if absent, with a
 * time to live, so that a loader that dies holding it blocks the next one for at most that long; it is deleted on
 * release only by the loader that holds it.
 */
final class RedisDeltaLoaderLock implements AutoCloseable {

    /** Longer than a delta of a few million rows takes to check and write. */
    static final Duration TIME_TO_LIVE = Duration.ofMinutes(15);

    private static final String DELETE_IF_HELD =
            "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end";

    private final RedisConnection redis;
    private final byte[] key;
    private final byte[] holder;

    private RedisDeltaLoaderLock(RedisConnection redis, byte[] key, byte[] holder) {
        this.redis = redis;
        this.key = key;
        this.holder = holder;
    }

    /** @throws IllegalStateException when another loader holds the lock, naming it and when it expires at the latest */
    static RedisDeltaLoaderLock acquire(RedisConnection redis, RedisKeyLayout keys) {
        byte[] key = keys.deltaLoaderLockKey();
        byte[] holder = (ManagementFactory.getRuntimeMXBean().getName() + " since " + Instant.now() + " ("
                + UUID.randomUUID() + ")").getBytes(StandardCharsets.UTF_8);
        String set = redis.commands().set(key, holder, SetArgs.Builder.nx().px(TIME_TO_LIVE.toMillis()));
        if (!"OK".equals(set)) {
            byte[] other = redis.commands().get(key);
            long expiresInSeconds = Math.max(0, redis.commands().pttl(key)) / 1000;
            throw new IllegalStateException("another delta loader is writing into " + keys.model() + " version "
                    + keys.version() + ": " + new String(key, StandardCharsets.UTF_8) + " is held by "
                    + (other == null ? "a loader that just finished" : new String(other, StandardCharsets.UTF_8))
                    + "; run again once it is done (the key expires by itself within " + expiresInSeconds
                    + " s if that loader died)");
        }
        return new RedisDeltaLoaderLock(redis, key, holder);
    }

    @Override
    public void close() {
        Long deleted = redis.commands().eval(DELETE_IF_HELD, ScriptOutputType.INTEGER, new byte[][] {key}, holder);
        if (deleted == null || deleted == 0) {
            throw new IllegalStateException(new String(key, StandardCharsets.UTF_8) + " expired while this loader"
                    + " held it (after " + TIME_TO_LIVE.toMinutes() + " minutes): another loader may have written"
                    + " meanwhile; check the newest delta's record");
        }
    }
}
