package dev.stemnet.service.embedding.redis;

import static org.junit.jupiter.api.Assertions.fail;

import dev.stemnet.service.embedding.redis.TestRedis.LocalRedis;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A three-master Redis Cluster of local redis-server processes, no replicas, made with
 * {@code redis-cli --cluster create}. Local processes only: cluster nodes announce their own addresses, which a
 * container's mapped ports would not match.
 */
final class TestRedisCluster implements AutoCloseable {

    private static final int NODES = 3;

    private final List<LocalRedis> nodes = new ArrayList<>();

    TestRedisCluster() {
        Path binary = TestRedis.redisServerBinary().orElseGet(() -> fail(TestRedis.INSTALL_HINT));
        Path cli = binary.resolveSibling("redis-cli");
        try {
            for (int i = 0; i < NODES; i++) {
                nodes.add(new LocalRedis(binary, "--cluster-enabled", "yes",
                        "--cluster-config-file", "nodes.conf",
                        "--cluster-node-timeout", "5000"));
            }
            List<String> create = new ArrayList<>(List.of(cli.toString(), "--cluster", "create"));
            nodes.forEach(node -> create.add(node.host() + ":" + node.port()));
            create.addAll(List.of("--cluster-replicas", "0", "--cluster-yes"));
            run(create);
            awaitClusterOk();
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    /** Any node; Lettuce discovers the others. */
    String uri() {
        return nodes.get(0).uri();
    }

    List<LocalRedis> nodes() {
        return nodes;
    }

    /** Every node must know every slot is served before the cluster takes commands reliably. */
    private void awaitClusterOk() {
        long deadline = System.nanoTime() + TestRedis.START_DEADLINE.toNanos();
        while (System.nanoTime() < deadline) {
            boolean allOk = nodes.stream().allMatch(node ->
                    TestRedis.RespClient.call(node.host(), node.port(), "CLUSTER", "INFO").contains("cluster_state:ok"));
            if (allOk) {
                return;
            }
            TestRedis.pause(Duration.ofMillis(50));
        }
        throw new IllegalStateException("the Redis Cluster did not reach cluster_state:ok within " + TestRedis.START_DEADLINE);
    }

    private static void run(List<String> command) {
        try {
            Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
            String output = new String(process.getInputStream().readAllBytes());
            if (!process.waitFor(TestRedis.START_DEADLINE.toSeconds(), TimeUnit.SECONDS) || process.exitValue() != 0) {
                throw new IllegalStateException(String.join(" ", command) + " failed:\n" + output);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    @Override
    public void close() {
        nodes.forEach(LocalRedis::close);
    }
}
