package dev.stemnet.service.delta.redis;

import dev.stemnet.service.embedding.redis.RedisConnection;
import dev.stemnet.service.embedding.redis.RedisKeyLayout;
import java.nio.charset.StandardCharsets;

/**
 * One model version's deltas in Redis: the newest sequence ({@code stem:<model>:<version>:deltas}), the record of
 * each ({@code ...:delta:<sequence>}) and the channel the loader announces a sequence on.
 */
public final class RedisDeltaRecords {

    private final RedisConnection redis;
    private final RedisKeyLayout keys;

    public RedisDeltaRecords(RedisConnection redis, RedisKeyLayout keys) {
        this.redis = redis;
        this.keys = keys;
    }

    public RedisKeyLayout keys() {
        return keys;
    }

    /** The newest sequence whose rows and record are complete; 0 when no delta was loaded. */
    public long latestSequence() {
        byte[] value = redis.commands().get(keys.deltasKey());
        return value == null ? 0 : Long.parseLong(new String(value, StandardCharsets.UTF_8));
    }

    /** @throws IllegalStateException when Redis holds no record of {@code sequence} */
    public RedisDeltaRecord read(long sequence) {
        byte[] value = redis.commands().get(keys.deltaRecordKey(sequence));
        if (value == null) {
            throw new IllegalStateException(redis + " has no record of delta " + sequence + " of " + keys.model() + " "
                    + keys.version() + " (" + new String(keys.deltaRecordKey(sequence), StandardCharsets.UTF_8) + ")");
        }
        return RedisDeltaRecord.fromJson(value);
    }

    public void write(RedisDeltaRecord record) {
        redis.commands().set(keys.deltaRecordKey(record.sequence()), record.toJson());
    }

    /**
     * Makes {@code sequence} the newest, then announces it.
     *
     * @return how many subscribers heard the announcement (on a cluster, those of the node it went to)
     */
    public long complete(long sequence) {
        byte[] value = String.valueOf(sequence).getBytes(StandardCharsets.UTF_8);
        redis.commands().set(keys.deltasKey(), value);
        return redis.commands().publish(keys.deltasChannel().getBytes(StandardCharsets.UTF_8), value);
    }
}
