package dev.stemnet.service.embedding.redis;

import static org.junit.jupiter.api.Assertions.fail;

import dev.stemnet.service.Polling;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.containers.GenericContainer;

/**
 * A real Redis server for tests: a Testcontainers container where a Docker engine answers, otherwise a
 * {@code redis-server} process on a free 127.0.0.1 port. Neither keeps data on disk. Without both the tests
 * fail, saying how to install redis-server: a Redis store that is never tested must not look green.
 */
public abstract class TestRedis implements AutoCloseable {

    static final Duration START_DEADLINE = Duration.ofSeconds(15);
    static final String INSTALL_HINT = "The Redis tests need a Redis server: Docker is not available and"
            + " redis-server is not on PATH. Install it with `apt-get install -y redis-server`"
            + " (or run scripts/install-test-deps.sh).";

    private static final Logger log = LoggerFactory.getLogger(TestRedis.class);

    private static TestRedis shared;

    /** One server for every test that leaves it running; stopped when the test JVM exits. */
    public static synchronized TestRedis shared() {
        if (shared == null) {
            TestRedis server = start();
            Runtime.getRuntime().addShutdownHook(new Thread(server::close));
            shared = server;
        }
        return shared;
    }

    /** A server of one's own, for tests that stop it; close it afterwards. */
    public static TestRedis start() {
        if (DockerClientFactory.instance().isDockerAvailable()) {
            return new ContainerRedis();
        }
        Path binary = redisServerBinary().orElseGet(() -> fail(INSTALL_HINT));
        log.info("No Docker engine for a Redis container; starting {} on a free local port", binary);
        return new LocalRedis(binary);
    }

    /**
     * A server of one's own on {@code port}, for a test that points the service at an address before anything
     * listens there; close it afterwards. Always a local redis-server: Docker chooses a container's host port.
     */
    public static TestRedis startOnPort(int port) {
        return new LocalRedis(redisServerBinary().orElseGet(() -> fail(INSTALL_HINT)), port);
    }

    static Optional<Path> redisServerBinary() {
        String path = System.getenv().getOrDefault("PATH", "");
        return Stream.of(path.split(File.pathSeparator))
                .filter(dir -> !dir.isBlank())
                .map(dir -> Path.of(dir, "redis-server"))
                .filter(Files::isExecutable)
                .findFirst();
    }

    public abstract String host();

    public abstract int port();

    public String uri() {
        return "redis://" + host() + ":" + port();
    }

    /**
     * Makes Redis unreachable. A local server is killed, so connections drop and it comes back empty; a
     * container is paused, so commands time out and it comes back with its data.
     */
    public abstract void stop();

    /** Undoes {@link #stop()} and waits until Redis answers PING; the connections of clients must recover themselves. */
    public abstract void restart();

    /** Keeps the connections open but lets no command be answered, as a Redis stuck in a slow command would. */
    public abstract void freeze();

    public abstract void thaw();

    @Override
    public abstract void close();

    /** How often Redis has run {@code command} since it started, from {@code INFO commandstats}. */
    public long calls(String command) {
        String stats = RespClient.call(host(), port(), "INFO", "commandstats");
        String prefix = "cmdstat_" + command.toLowerCase() + ":calls=";
        return stats.lines()
                .filter(line -> line.startsWith(prefix))
                .mapToLong(line -> Long.parseLong(line.substring(prefix.length(), line.indexOf(',', prefix.length()))))
                .findFirst()
                .orElse(0);
    }

    static void awaitPong(String host, int port, Process process) {
        long deadline = System.nanoTime() + START_DEADLINE.toNanos();
        IOException last = null;
        while (System.nanoTime() < deadline) {
            if (process != null && !process.isAlive()) {
                throw new IllegalStateException("redis-server on port " + port + " exited with " + process.exitValue());
            }
            try {
                if (RespClient.tryCall(host, port, "PING").equals("PONG")) {
                    return;
                }
            } catch (IOException e) {
                last = e;
            }
            pause(Duration.ofMillis(20));
        }
        throw new IllegalStateException("Redis at " + host + ":" + port + " did not answer PING within "
                + START_DEADLINE, last);
    }

    static void pause(Duration duration) {
        try {
            Thread.sleep(duration.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    public static int freePort() {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A redis-server process; also the building block of {@link TestRedisCluster}. */
    static final class LocalRedis extends TestRedis {
        private final Path binary;
        private final Path directory;
        private final List<String> extraArguments;
        private int port;
        private Process process;

        LocalRedis(Path binary, String... extraArguments) {
            this.binary = binary;
            this.extraArguments = List.of(extraArguments);
            this.directory = createDirectory();
            // A port found free can be taken before redis-server binds it; try a few.
            IllegalStateException failure = null;
            for (int attempt = 0; attempt < 3; attempt++) {
                port = freePort();
                try {
                    launch();
                    return;
                } catch (IllegalStateException e) {
                    failure = e;
                }
            }
            throw failure;
        }

        LocalRedis(Path binary, int port) {
            this.binary = binary;
            this.extraArguments = List.of();
            this.directory = createDirectory();
            this.port = port;
            launch();
        }

        private static Path createDirectory() {
            try {
                return Files.createTempDirectory("test-redis");
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        private void launch() {
            List<String> command = new ArrayList<>(List.of(binary.toString(),
                    "--port", String.valueOf(port), "--bind", "127.0.0.1",
                    "--save", "", "--appendonly", "no", "--dir", directory.toString()));
            command.addAll(extraArguments);
            try {
                process = new ProcessBuilder(command)
                        .redirectErrorStream(true)
                        .redirectOutput(directory.resolve("redis-" + port + ".log").toFile())
                        .start();
            } catch (IOException e) {
                throw new UncheckedIOException("cannot start " + binary, e);
            }
            try {
                awaitPong(host(), port, process);
            } catch (IllegalStateException e) {
                process.destroyForcibly();
                throw e;
            }
        }

        @Override
        public String host() {
            return "127.0.0.1";
        }

        @Override
        public int port() {
            return port;
        }

        @Override
        public void stop() {
            kill();
        }

        @Override
        public void restart() {
            launch();
        }

        @Override
        public void freeze() {
            signal("STOP");
            awaitStopped(true);
        }

        @Override
        public void thaw() {
            if (process.isAlive()) {
                signal("CONT");
                awaitStopped(false);
            }
        }

        /** kill only queues the signal: a command sent before the kernel acts on it may still be answered. */
        private void awaitStopped(boolean stopped) {
            if (!Polling.until(START_DEADLINE, () -> isStopped() == stopped)) {
                throw new IllegalStateException(
                        "redis-server on port " + port + (stopped ? " did not stop" : " did not continue"));
            }
        }

        /** The state letter in /proc/<pid>/stat, after the parenthesised command name: T when stopped. */
        private boolean isStopped() {
            try {
                String stat = Files.readString(Path.of("/proc", String.valueOf(process.pid()), "stat"));
                return stat.charAt(stat.lastIndexOf(')') + 2) == 'T';
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        private void signal(String signal) {
            try {
                int exit = new ProcessBuilder("kill", "-" + signal, String.valueOf(process.pid()))
                        .inheritIO().start().waitFor();
                if (exit != 0) {
                    throw new IllegalStateException("kill -" + signal + " exited with " + exit);
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
        }

        private void kill() {
            if (process == null || !process.isAlive()) {
                return;
            }
            process.destroyForcibly();
            try {
                if (!process.waitFor(START_DEADLINE.toSeconds(), TimeUnit.SECONDS)) {
                    throw new IllegalStateException("redis-server on port " + port + " did not exit");
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
        }

        /** SIGKILL ends a frozen process too. */
        @Override
        public void close() {
            kill();
        }
    }

    /** A Redis container; only where a Docker engine runs. */
    static final class ContainerRedis extends TestRedis {
        private static final int REDIS_PORT = 6379;
        private final GenericContainer<?> container;

        @SuppressWarnings("resource")
        ContainerRedis() {
            container = new GenericContainer<>("redis:7-alpine")
                    .withCommand("redis-server", "--save", "", "--appendonly", "no")
                    .withExposedPorts(REDIS_PORT);
            container.start();
            awaitPong(host(), port(), null);
        }

        @Override
        public String host() {
            return container.getHost();
        }

        @Override
        public int port() {
            return container.getMappedPort(REDIS_PORT);
        }

        @Override
        public void stop() {
            freeze();
        }

        @Override
        public void restart() {
            thaw();
            awaitPong(host(), port(), null);
        }

        @Override
        public void freeze() {
            container.getDockerClient().pauseContainerCmd(container.getContainerId()).exec();
        }

        @Override
        public void thaw() {
            container.getDockerClient().unpauseContainerCmd(container.getContainerId()).exec();
        }

        @Override
        public void close() {
            container.stop();
        }
    }

    /** Just enough of the Redis protocol to ask a server something without a client library's reconnect logic. */
    static final class RespClient {

        static String call(String host, int port, String... command) {
            try {
                return tryCall(host, port, command);
            } catch (IOException e) {
                throw new UncheckedIOException("Redis at " + host + ":" + port + " did not answer", e);
            }
        }

        /** @return the reply of a command answering a simple string, a bulk string or an integer */
        static String tryCall(String host, int port, String... command) throws IOException {
            try (Socket socket = new Socket()) {
                socket.connect(new InetSocketAddress(host, port), 1000);
                socket.setSoTimeout(5000);
                StringBuilder request = new StringBuilder("*" + command.length + "\r\n");
                for (String part : command) {
                    request.append('$').append(part.getBytes(StandardCharsets.UTF_8).length).append("\r\n")
                            .append(part).append("\r\n");
                }
                OutputStream out = socket.getOutputStream();
                out.write(request.toString().getBytes(StandardCharsets.UTF_8));
                out.flush();
                InputStream in = socket.getInputStream();
                String header = readLine(in);
                switch (header.charAt(0)) {
                    case '+':
                    case ':':
                        return header.substring(1);
                    case '$':
                        int length = Integer.parseInt(header.substring(1));
                        byte[] body = in.readNBytes(length + 2);
                        return new String(body, 0, length, StandardCharsets.UTF_8);
                    default:
                        throw new IOException("unexpected reply to " + String.join(" ", command) + ": " + header);
                }
            }
        }

        private static String readLine(InputStream in) throws IOException {
            StringBuilder line = new StringBuilder();
            int c;
            while ((c = in.read()) != '\n') {
                if (c < 0) {
                    throw new IOException("connection closed");
                }
                if (c != '\r') {
                    line.append((char) c);
                }
            }
            return line.toString();
        }
    }
}
