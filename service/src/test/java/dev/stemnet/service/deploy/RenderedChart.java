package dev.stemnet.service.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import com.marcnuri.helm.Helm;
import com.marcnuri.helm.TemplateCommand;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.yaml.snakeyaml.Yaml;

/** The chart's manifests as {@code helm template} renders them, with real Helm (helm-java). */
record RenderedChart(List<Map<String, Object>> manifests) {

    static final String RELEASE = "stem";

    /** Renders the chart with the values files (later ones win) and values given inline as YAML, in that order. */
    static RenderedChart render(List<Path> valuesFiles, String... inlineValues) {
        TemplateCommand template = new Helm(SourceTree.CHART).template().withName(RELEASE).withNamespace("ads");
        for (Path file : valuesFiles) {
            template = template.withValuesFile(file);
        }
        try {
            for (String values : inlineValues) {
                Path file = Files.createTempFile("stem-values", ".yaml");
                file.toFile().deleteOnExit();
                template = template.withValuesFile(Files.writeString(file, values));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        List<Map<String, Object>> manifests = new ArrayList<>();
        for (Object document : new Yaml().loadAll(template.call())) {
            if (document != null) {
                manifests.add(map(document));
            }
        }
        return new RenderedChart(manifests);
    }

    static RenderedChart cpu(String... inlineValues) {
        return render(List.of(), inlineValues);
    }

    static RenderedChart gpu(String... inlineValues) {
        return render(List.of(SourceTree.GPU_VALUES), inlineValues);
    }

    List<Map<String, Object>> all(String kind) {
        return manifests.stream().filter(manifest -> kind.equals(manifest.get("kind"))).toList();
    }

    Map<String, Object> one(String kind) {
        List<Map<String, Object>> found = all(kind);
        assertThat(found).as("manifests of kind " + kind).hasSize(1);
        return found.get(0);
    }

    Map<String, Object> named(String kind, String name) {
        return all(kind).stream().filter(manifest -> name.equals(get(manifest, "metadata.name"))).findFirst()
                .orElseThrow(() -> new AssertionError("No " + kind + " named " + name));
    }

    /** The service's single container in the Deployment's pod. */
    Map<String, Object> container() {
        return map(list(get(one("Deployment"), "spec.template.spec.containers")).get(0));
    }

    /** The ConfigMap's application.yaml, as the service reads it. */
    String applicationYaml() {
        return Objects.toString(get(named("ConfigMap", RELEASE + "-stem-net-config"), "data.application.yaml"));
    }

    /** Follows a dotted path; keys with dots (label names, data keys) are matched whole when present. */
    static Object get(Object node, String path) {
        Object current = node;
        String rest = path;
        while (!rest.isEmpty() && current != null) {
            String key = longestKeyPrefix(map(current), rest);
            current = map(current).get(key);
            rest = rest.length() > key.length() ? rest.substring(key.length() + 1) : "";
        }
        return current;
    }

    private static String longestKeyPrefix(Map<String, Object> map, String path) {
        return map.keySet().stream().filter(path::startsWith)
                .filter(key -> path.length() == key.length() || path.charAt(key.length()) == '.')
                .max((a, b) -> a.length() - b.length()).orElse(path.split("\\.", 2)[0]);
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> map(Object node) {
        return (Map<String, Object>) node;
    }

    @SuppressWarnings("unchecked")
    static List<Object> list(Object node) {
        return (List<Object>) node;
    }
}
