package dev.stemnet.service;

import static org.assertj.core.api.Assertions.assertThat;

import dev.stemnet.service.config.EmbeddingStoreProperties;
import dev.stemnet.service.config.StemProperties;
import dev.stemnet.service.experiment.ExperimentProperties;
import dev.stemnet.service.pipeline.ShadowProperties;
import java.io.IOException;
import java.lang.reflect.Constructor;
import java.lang.reflect.Parameter;
import java.lang.reflect.RecordComponent;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.Name;

/**
 * service/README.md's configuration table is the one place every {@code stem.*} key is described: each key the
 * service binds has exactly one row there, and each row names a key the service binds. A key added to a
 * properties record without its row, or a row left behind by a removed key, fails this test.
 */
class DocumentedSettingsTest {

    private static final List<Class<?>> PROPERTIES = List.of(StemProperties.class, EmbeddingStoreProperties.class,
            ShadowProperties.class, ExperimentProperties.class);
    private static final Pattern ROW_KEY = Pattern.compile("^\\| `(stem\\.[^`]+)`");

    static Path readme() {
        return Path.of(System.getProperty("user.dir")).resolve("README.md");
    }

    /** The keys the configuration table's rows start with, e.g. {@code stem.cache.tables.[<table>].maximum-size}. */
    static List<String> documentedKeys() throws IOException {
        List<String> keys = new ArrayList<>();
        for (String line : Files.readAllLines(readme())) {
            Matcher row = ROW_KEY.matcher(line);
            if (row.find()) {
                keys.add(row.group(1));
            }
        }
        return keys;
    }

    @Test
    void everyBoundKeyHasExactlyOneRowAndEveryRowABoundKey() throws IOException {
        List<String> documented = documentedKeys();
        TreeSet<String> leaves = new TreeSet<>();
        TreeSet<String> maps = new TreeSet<>();
        for (Class<?> properties : PROPERTIES) {
            collect(properties.getAnnotation(ConfigurationProperties.class).value(), properties, leaves, maps);
        }

        for (String key : leaves) {
            assertThat(documented.stream().filter(key::equals).count())
                    .as("rows in service/README.md's configuration table for %s", key).isEqualTo(1);
        }
        for (String map : maps) {
            assertThat(documented).as("a row for the map %s (e.g. %s.<name>)", map, map)
                    .anyMatch(row -> row.startsWith(map + "."));
        }
        List<String> stale = documented.stream()
                .filter(row -> !leaves.contains(row) && maps.stream().noneMatch(map -> row.startsWith(map + ".")))
                .toList();
        assertThat(stale).as("rows of service/README.md naming no key the service binds").isEmpty();
    }

    /** Dotted kebab-case keys of {@code type}'s components: leaves, and maps whose keys the user chooses. */
    private static void collect(String prefix, Class<?> type, TreeSet<String> leaves, TreeSet<String> maps) {
        RecordComponent[] components = type.getRecordComponents();
        Parameter[] parameters = canonicalConstructor(type, components).getParameters();
        for (int i = 0; i < components.length; i++) {
            RecordComponent component = components[i];
            // @Name sits on the constructor's parameter, where Spring's binder reads it.
            Name name = parameters[i].getAnnotation(Name.class);
            String key = prefix + "." + kebab(name != null ? name.value() : component.getName());
            if (component.getType().isRecord()) {
                collect(key, component.getType(), leaves, maps);
            } else if (Map.class.isAssignableFrom(component.getType())) {
                maps.add(key);
            } else {
                leaves.add(key);
            }
        }
    }

    private static Constructor<?> canonicalConstructor(Class<?> type, RecordComponent[] components) {
        try {
            return type.getDeclaredConstructor(Stream.of(components).map(RecordComponent::getType).toArray(Class[]::new));
        } catch (NoSuchMethodException e) {
            throw new IllegalStateException(type + " is a record without its canonical constructor", e);
        }
    }

    private static String kebab(String camel) {
        return camel.chars().mapToObj(c -> Character.isUpperCase(c) ? "-" + Character.toLowerCase((char) c)
                : String.valueOf((char) c)).collect(Collectors.joining());
    }
}
