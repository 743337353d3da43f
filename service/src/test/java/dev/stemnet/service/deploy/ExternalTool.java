package dev.stemnet.service.deploy;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A command-line tool the deployment tests run for real (promtool, prometheus, dockerfile-utils). A missing tool
 * fails the test, never skips it, and says how to install it.
 */
final class ExternalTool {

    private ExternalTool() {}

    record Result(int exitCode, String output) {}

    /** @return the tool's absolute path on PATH */
    static Path require(String name) {
        for (String directory : System.getenv().getOrDefault("PATH", "").split(":")) {
            Path candidate = Path.of(directory, name);
            if (Files.isExecutable(candidate)) {
                return candidate;
            }
        }
        return fail("`" + name + "` is not on PATH. Install the test tools with scripts/install-test-deps.sh"
                + " (make test runs it).");
    }

    /** Runs the tool to completion, standard output and error together; at most a minute. */
    static Result run(List<String> command, Path stdin) {
        List<String> resolved = new ArrayList<>(command);
        resolved.set(0, require(command.get(0)).toString());
        ProcessBuilder builder = new ProcessBuilder(resolved).redirectErrorStream(true);
        if (stdin != null) {
            builder.redirectInput(stdin.toFile());
        }
        try {
            Process process = builder.start();
            // The output is small (lint messages); reading it to the end also waits for the process to close it.
            String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!process.waitFor(60, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                return fail(command + " did not finish within 60 s");
            }
            return new Result(process.exitValue(), output);
        } catch (IOException e) {
            return fail("Could not run " + command + ": " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return fail("Interrupted while running " + command);
        }
    }
}
