package dev.stemnet.service.embedding.redis;

import static org.assertj.core.api.Assertions.assertThat;

import dev.stemnet.service.Polling;
import dev.stemnet.service.embedding.EmbeddingStoreStatus.State;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

/**
 * The first connection to Redis as the service makes it: a handshake that times out (the reported start-up failure,
 * "Connection initialization timed out after 250 millisecond(s)") is tried again in the background instead of
 * being thrown, until Redis answers.
 */
class RedisConnectionRetryTest {

    private static final Duration COMMAND_TIMEOUT = Duration.ofMillis(250);
    private static final Duration DEADLINE = Duration.ofSeconds(20);

    @Test
    void retriesAFirstConnectionWhoseHandshakeTimesOutUntilRedisAnswers() throws IOException {
        RedisConnection redis;
        int port;
        try (SilentServer silent = new SilentServer()) {
            port = silent.port();
            redis = RedisConnection.openRetrying(new RedisSettings("redis://127.0.0.1:" + port, false, COMMAND_TIMEOUT));

            assertThat(redis.status().state()).isEqualTo(State.UNREACHABLE);
            assertThat(redis.status().store()).isEqualTo("Redis 127.0.0.1:" + port);
            assertThat(redis.status().reason()).contains("timed out");
            assertThat(Polling.until(DEADLINE, () -> silent.connections() >= 2)).as("a second attempt").isTrue();
        }
        try (redis; TestRedis server = TestRedis.startOnPort(port)) {
            assertThat(Polling.until(DEADLINE, () -> redis.status().state() == State.AVAILABLE)).isTrue();
            byte[] echoed = redis.commands().echo("answers".getBytes(StandardCharsets.UTF_8));
            assertThat(new String(echoed, StandardCharsets.UTF_8)).isEqualTo("answers");
        }
    }

    /** Accepts connections and never answers, as a Redis too busy to finish the handshake in time. */
    private static final class SilentServer implements AutoCloseable {
        private final ServerSocket socket = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        private final List<Socket> accepted = new CopyOnWriteArrayList<>();
        private final Thread acceptor = new Thread(this::acceptUntilClosed, "silent-redis");

        SilentServer() throws IOException {
            acceptor.setDaemon(true);
            acceptor.start();
        }

        int port() {
            return socket.getLocalPort();
        }

        int connections() {
            return accepted.size();
        }

        private void acceptUntilClosed() {
            try {
                while (true) {
                    accepted.add(socket.accept());
                }
            } catch (IOException closed) {
                // close() ends the loop.
            }
        }

        @Override
        public void close() throws IOException {
            socket.close();
            for (Socket connection : accepted) {
                connection.close();
            }
        }
    }
}
