package dev.stemnet.service.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The top-level Dockerfile against the build it packages: linted by a real Dockerfile linter (dockerfile-utils,
 * from npm), and checked to copy the jar Maven builds, to run it as a non-root user with ONNX Runtime's
 * libraries outside the read-only root filesystem, and to expose and health-check the ports the service uses.
 */
class DockerfileTest {

    private static final List<Instruction> INSTRUCTIONS = Instruction.parse(SourceTree.read(SourceTree.DOCKERFILE));

    @Test
    void theLinterAcceptsTheDockerfileAndRejectsABrokenCopyOfIt(@TempDir Path directory) throws IOException {
        ExternalTool.Result lint = ExternalTool.run(List.of("dockerfile-utils", "lint", SourceTree.DOCKERFILE.toString()), null);
        assertThat(lint.exitCode()).as(lint.output()).isZero();

        // The linter must actually read the file: an invalid protocol on EXPOSE is an error it reports.
        Path broken = Files.writeString(directory.resolve("Dockerfile"),
                SourceTree.read(SourceTree.DOCKERFILE).replace("EXPOSE 8080 8081", "EXPOSE 8080/tcpx 8081"));
        ExternalTool.Result brokenLint = ExternalTool.run(List.of("dockerfile-utils", "lint", broken.toString()), null);
        assertThat(brokenLint.exitCode()).isNotZero();
        assertThat(brokenLint.output()).contains("Invalid proto: tcpx");
    }

    @Test
    void buildsWithMavenAndRunsOnACpuOrGpuBaseChosenByTheVariantArgument() {
        List<String> stages = all("FROM");
        assertThat(stages).hasSize(4);
        assertThat(stages.get(0)).matches("maven:[^ ]+ AS build");
        assertThat(stages.get(1)).matches("eclipse-temurin:17-jre-[^ ]+ AS runtime-cpu");
        assertThat(stages.get(2)).matches("nvidia/cuda:[^ ]+-cudnn-runtime-[^ ]+ AS runtime-gpu");
        assertThat(stages.get(3)).isEqualTo("runtime-${VARIANT}");
        assertThat(stages.subList(0, 3)).noneMatch(from -> from.contains(":latest"));
        assertThat(all("ARG").get(0)).isEqualTo("VARIANT=cpu");
        // Both Maven runs of the build stage pick the ONNX Runtime artifact from the variant.
        assertThat(all("RUN").stream().filter(run -> run.startsWith("mvn ")))
                .hasSize(2)
                .allMatch(run -> run.contains("-Donnxruntime.artifact=\"$( [ \"$VARIANT\" = gpu ] && echo onnxruntime_gpu || echo onnxruntime )\""));
    }

    @Test
    void copiesTheJarMavenBuildsAndStartsItWithOnnxRuntimesUnpackedLibraries() {
        String jar = SourceTree.serviceJarPath();
        String copiedJar = all("COPY").stream().filter(copy -> copy.contains(".jar")).findFirst().orElseThrow();
        assertThat(copiedJar).isEqualTo("--from=build /src/" + jar + " /app/stem-net-service.jar");

        String entrypoint = only("ENTRYPOINT");
        assertThat(entrypoint).endsWith("\"-jar\", \"/app/stem-net-service.jar\"]");
        Matcher nativePath = Pattern.compile("-Donnxruntime\\.native\\.path=([^\"]+)").matcher(entrypoint);
        assertThat(nativePath.find()).as("ENTRYPOINT sets onnxruntime.native.path").isTrue();
        assertThat(all("COPY")).contains("--from=build /src/onnxruntime-native " + nativePath.group(1));
    }

    @Test
    void runsAsANonRootUserThatWritesOnlyToItsVolumes() {
        assertThat(only("USER")).isEqualTo("10001:10001");
        assertThat(only("VOLUME")).isEqualTo("[\"/models\", \"/exposures\", \"/tmp\"]");
        assertThat(only("ENV")).contains("STEM_MODELS_REPOSITORY=/models", "-XX:MaxRAMPercentage=");
    }

    @Test
    void theHeapIsFixedFromTheStartAndTheBenchmarksRunTheJvmAsTheChartsDefaultPod() {
        Matcher image = Pattern.compile("JAVA_TOOL_OPTIONS=\"-XX:InitialRAMPercentage=(\\d+) -XX:MaxRAMPercentage=(\\d+) ")
                .matcher(only("ENV"));
        assertThat(image.find()).as("the image's heap flags").isTrue();
        assertThat(image.group(1)).as("initial heap = maximum heap").isEqualTo(image.group(2));

        Map<String, Object> values = new org.yaml.snakeyaml.Yaml().load(SourceTree.read(SourceTree.CHART.resolve("values.yaml")));
        String podMemory = SourceTree.at(values, "resources.limits.memory").toString();
        assertThat(podMemory).endsWith("Gi");
        String benchmarks = SourceTree.read(SourceTree.ROOT.resolve("scripts/with-service.sh"));
        assertThat(benchmarks).contains("POD_JVM_OPTS=\"-XX:MaxRAM=" + podMemory.replace("Gi", "g")
                + " -XX:InitialRAMPercentage=" + image.group(1) + " -XX:MaxRAMPercentage=" + image.group(2) + "\"");
    }

    @Test
    void exposesAndHealthChecksThePortsOfTheServicesConfiguration() {
        Map<String, Object> defaults = SourceTree.applicationDefaults();
        Object publicPort = SourceTree.at(defaults, "server.port");
        Object managementPort = SourceTree.at(defaults, "management.server.port");
        assertThat(Arrays.asList(only("EXPOSE").split(" "))).containsExactly(publicPort.toString(), managementPort.toString());
        assertThat(only("HEALTHCHECK"))
                .contains("CMD curl -fsS http://127.0.0.1:" + managementPort + "/actuator/health/readiness");
        assertThat(SourceTree.at(defaults, "management.endpoint.health.probes.enabled")).isEqualTo(true);
    }

    private static List<String> all(String keyword) {
        return INSTRUCTIONS.stream().filter(instruction -> instruction.keyword().equals(keyword)).map(Instruction::arguments).toList();
    }

    private static String only(String keyword) {
        List<String> found = all(keyword);
        assertThat(found).as(keyword).hasSize(1);
        return found.get(0);
    }

    /** One Dockerfile instruction with its continuation lines joined, comments dropped. */
    record Instruction(String keyword, String arguments) {

        static List<Instruction> parse(String dockerfile) {
            List<Instruction> instructions = new ArrayList<>();
            StringBuilder current = new StringBuilder();
            for (String line : dockerfile.lines().map(String::strip).toList()) {
                if (line.isEmpty() || line.startsWith("#")) {
                    continue;
                }
                if (line.endsWith("\\")) {
                    current.append(line, 0, line.length() - 1).append(' ');
                    continue;
                }
                String[] parts = current.append(line).toString().replaceAll("\\s+", " ").split(" ", 2);
                instructions.add(new Instruction(parts[0], parts.length > 1 ? parts[1] : ""));
                current.setLength(0);
            }
            return instructions;
        }
    }
}
