package dev.stemnet.service.config;

import dev.stemnet.service.bundle.BundleLoader;
import dev.stemnet.service.bundle.ModelBundle;
import dev.stemnet.service.embedding.redis.RedisBundleLoader;
import dev.stemnet.service.embedding.redis.RedisBundleLoader.LoadedTable;
import dev.stemnet.service.embedding.redis.RedisConnection;
import jakarta.validation.Validation;
import jakarta.validation.ValidatorFactory;
import java.nio.file.Path;
import java.util.List;
import org.springframework.boot.ApplicationRunner;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.annotation.Bean;
import org.springframework.core.env.SimpleCommandLinePropertySource;

/**
 * {@code java -jar stem-net-service.jar --stem.embedding.redis.load-bundle=<bundle dir> [--stem.embedding.redis.uri=...]}:
 * checks the bundle as the service does, copies its tables into Redis, verifies every row and prints what it
 * loaded, then exits (0 on success). It starts no web server and loads no model. Deliberately not a
 * {@code @Configuration}, so the service's component scan leaves it out.
 */
public class RedisLoadCommand {

    public static final String BUNDLE_PROPERTY = "stem.embedding.redis.load-bundle";

    public static boolean isRequested(String[] args) {
        return new SimpleCommandLinePropertySource(args).containsProperty(BUNDLE_PROPERTY);
    }

    /** @return the process exit code */
    public static int run(String[] args) {
        return OneShotCommand.run(Wiring.class, args, 1);
    }

    @EnableConfigurationProperties(EmbeddingStoreProperties.class)
    static class Wiring {

        @Bean
        ApplicationRunner loadBundleIntoRedis(EmbeddingStoreProperties properties) {
            return arguments -> {
                Path bundleDir = Path.of(arguments.getOptionValues(BUNDLE_PROPERTY).get(0));
                ModelBundle bundle;
                try (ValidatorFactory validation = Validation.buildDefaultValidatorFactory()) {
                    bundle = new BundleLoader(validation.getValidator()).load(bundleDir);
                }
                try (RedisConnection redis = RedisConnection.openForLoader(properties.redis().settings())) {
                    List<LoadedTable> tables = new RedisBundleLoader(redis).load(bundle);
                    var model = bundle.manifest().model();
                    System.out.printf("Loaded %s version %s from %s into %s:%n", model.name(), model.version(),
                            bundle.directory(), redis);
                    tables.forEach(table -> System.out.printf("  table %-20s %10d rows x %d floats, every row verified%n",
                            table.name(), table.rows(), table.dim()));
                }
            };
        }
    }
}
