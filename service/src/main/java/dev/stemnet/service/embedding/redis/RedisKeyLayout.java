package dev.stemnet.service.embedding.redis;

import java.nio.charset.StandardCharsets;

/**
 * Where a model version's rows live in Redis:
 * <pre>
 *   stem:&lt;model&gt;:&lt;version&gt;:&lt;table&gt;:&lt;row&gt;   raw little-endian float32, dim * 4 bytes
 *   stem:&lt;model&gt;:&lt;version&gt;:tables           hash: table -> "rows x dim", written last by the loader
 * </pre>
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

    static String tableShape(long rows, int dim) {
        return rows + " x " + dim;
    }
}
