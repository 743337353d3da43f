package dev.stemnet.service.deploy;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import javax.xml.parsers.DocumentBuilderFactory;
import org.yaml.snakeyaml.Yaml;

/** The repository's files that describe how the service is built, deployed and watched. */
final class SourceTree {

    static final Path ROOT = root();
    static final Path DOCKERFILE = ROOT.resolve("Dockerfile");
    static final Path CHART = ROOT.resolve("helm/stem-net");
    static final Path GPU_VALUES = CHART.resolve("values-gpu.yaml");
    static final Path RULES = CHART.resolve("files/prometheus-rules.yaml");
    static final Path DASHBOARD = CHART.resolve("files/grafana-dashboard.json");

    private SourceTree() {}

    private static Path root() {
        String configured = System.getProperty("stem.source-root");
        if (configured == null) {
            fail("System property stem.source-root is not set; run the tests through Maven (the service pom sets it)");
        }
        return Path.of(configured).toAbsolutePath().normalize();
    }

    static String read(Path file) {
        try {
            return Files.readString(file);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The service's packaged defaults, src/main/resources/application.yaml. */
    static Map<String, Object> applicationDefaults() {
        return new Yaml().load(read(ROOT.resolve("service/src/main/resources/application.yaml")));
    }

    @SuppressWarnings("unchecked")
    static Object at(Map<String, Object> tree, String dottedPath) {
        Object node = tree;
        for (String key : dottedPath.split("\\.")) {
            node = ((Map<String, Object>) node).get(key);
        }
        return node;
    }

    /** Where Maven puts the service jar: {@code <finalName>} of service/pom.xml in the module's target directory. */
    static String serviceJarPath() {
        try {
            String finalName = DocumentBuilderFactory.newInstance().newDocumentBuilder()
                    .parse(ROOT.resolve("service/pom.xml").toFile())
                    .getElementsByTagName("finalName").item(0).getTextContent().trim();
            return "service/target/" + finalName + ".jar";
        } catch (Exception e) {
            throw new IllegalStateException("Cannot read <finalName> from service/pom.xml", e);
        }
    }
}
