package dev.stemnet.service.config;

import static org.assertj.core.api.Assertions.assertThat;

import dev.stemnet.service.embedding.redis.RedisConnection;
import dev.stemnet.service.embedding.redis.RedisKeyLayout;
import dev.stemnet.service.embedding.redis.RedisSettings;
import dev.stemnet.service.embedding.redis.TestRedis;
import dev.stemnet.service.TestBundle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/** The loader command as an operator runs it: arguments in, Redis filled, a report and an exit code out. */
@ExtendWith(OutputCaptureExtension.class)
class RedisLoadCommandTest {

    private static final JsonMapper JSON = JsonMapper.builder().build();

    @Test
    void loadsABundleIntoRedisAndReportsEveryTable(@TempDir Path directory, CapturedOutput output) throws Exception {
        Path bundle = TestBundle.copyTo(directory.resolve("bundle"));
        ObjectNode manifest = (ObjectNode) JSON.readTree(bundle.resolve("manifest.json"));
        ((ObjectNode) manifest.get("model")).put("version", "loaded-by-command");
        Files.writeString(bundle.resolve("manifest.json"), JSON.writeValueAsString(manifest));
        // A generous deadline: this test is about what gets loaded, and a busy CI machine may be slow to connect.
        String[] args = {"--stem.embedding.redis.load-bundle=" + bundle, "--stem.embedding.redis.uri=" + TestRedis.shared().uri(),
                "--stem.embedding.redis.timeout=5s"};

        assertThat(RedisLoadCommand.isRequested(args)).isTrue();
        assertThat(RedisLoadCommand.run(args)).isZero();

        assertThat(output.getOut()).contains("Loaded stem-net version loaded-by-command");
        try (RedisConnection redis = RedisConnection.open(
                new RedisSettings(TestRedis.shared().uri(), false, Duration.ofSeconds(2)))) {
            var tables = redis.commands().hgetall(new RedisKeyLayout("stem-net", "loaded-by-command").tablesKey());
            assertThat(tables).hasSize(manifest.get("tables").size());
        }
        manifest.get("tables").forEach(table -> assertThat(output.getOut()).contains(table.get("name").asString()));
    }

    @Test
    void exitsWithAnErrorForABundleThatIsRefused(@TempDir Path directory) throws Exception {
        Path bundle = TestBundle.copyTo(directory.resolve("bundle"));
        Files.delete(bundle.resolve("model.onnx"));

        int exitCode = RedisLoadCommand.run(new String[] {"--stem.embedding.redis.load-bundle=" + bundle,
                "--stem.embedding.redis.uri=" + TestRedis.shared().uri()});

        assertThat(exitCode).isNotZero();
    }

    @Test
    void isNotRequestedWithoutTheBundleArgument() {
        assertThat(RedisLoadCommand.isRequested(new String[] {"--stem.bundle.dir=/some/bundle"})).isFalse();
    }
}
