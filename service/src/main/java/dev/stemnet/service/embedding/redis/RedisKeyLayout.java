package dev.stemnet.service.embedding.redis;

import java.nio.charset.StandardCharsets;

/**
 * Where a model version's rows live in Redis:
 * <pre>
 *   stem:&lt;model&gt;:&lt;version&gt;:&lt;table&gt;:&lt;row&gt;   raw little-endian float32, dim * 4 bytes
 *   stem:&lt;model&gt;:&lt;version&gt;:tables           hash: table -> "rows x dim", written last by the loader
 *   stem:&lt;model&gt;:&lt;version&gt;:delta:&lt;seq&gt;      a delta's record (JSON), written by the delta loader
 *   stem:&lt;model&gt;:&lt;version&gt;:deltas           the newest delta's sequence, set after its record
 *   stem:&lt;model&gt;:&lt;version&gt;:delta-loader     held by the one delta loader writing now (expires by itself)
 * </pre>
 * and the pub/sub channel {@code stem:<model>:<version>:deltas}, on which the delta loader publishes each sequence.
 * Model name and version are part of every key, so two versions of a model live side by side. The keys
 * carry no hash tag ({@code {...}}), so Redis Cluster spreads one table's rows over every node.
 */
public record RedisKeyLayout(String model, String version) {

    private static final String PREFIX = "stem:";

    public RedisKeyLayout {
        for (String part : new String[] {model, version}) {
            if (part.contains("{") || part.contains("}")) {
                // A brace pair would become a Redis Cluster hash tag and pin a whole table to one node.
                throw new IllegalArgumentException("model name and version may not contain '{' or '}': " + part);
            }
        }
    }

    public byte[] rowKey(String table, long row) {
        return (PREFIX + model + ":" + version + ":" + table + ":" + row).getBytes(StandardCharsets.UTF_8);
    }

    /** The hash the loader writes after every row is in place and verified. */
    public byte[] tablesKey() {
        return (PREFIX + model + ":" + version + ":tables").getBytes(StandardCharsets.UTF_8);
    }

    /** The record of delta {@code sequence}: what a replica needs to apply it ({@code RedisDeltaRecord}). */
    public byte[] deltaRecordKey(long sequence) {
        return (PREFIX + model + ":" + version + ":delta:" + sequence).getBytes(StandardCharsets.UTF_8);
    }

    /** The sequence of the newest delta whose rows and record are in place. */
    public byte[] deltasKey() {
        return deltasChannel().getBytes(StandardCharsets.UTF_8);
    }

    /** Set while a delta loader writes into this version's keys, so that only one does at a time. */
    public byte[] deltaLoaderLockKey() {
        return (PREFIX + model + ":" + version + ":delta-loader").getBytes(StandardCharsets.UTF_8);
    }

    /** Where the delta loader publishes each sequence it completes: the same name as {@link #deltasKey()}. */
    public String deltasChannel() {
        return PREFIX + model + ":" + version + ":deltas";
    }

    /** The pattern of every model version's {@link #deltasChannel()}. */
    public static String deltasChannelPattern() {
        return PREFIX + "*:deltas";
    }

    static String tableShape(long rows, int dim) {
        return rows + " x " + dim;
    }
}
