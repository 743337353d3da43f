package dev.stemnet.service.model;

import dev.stemnet.service.bundle.InvalidBundleException;
import dev.stemnet.service.bundle.Manifest;
import dev.stemnet.service.scoring.CandidateScores;
import dev.stemnet.service.scoring.Deadline;
import dev.stemnet.service.scoring.ScoreRequest;
import dev.stemnet.service.scoring.StageTimings;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Scores every request of the bundle's parity fixtures through the full scoring path before the model
 * serves, and refuses the bundle when any score is further from the trainer's than the manifest's
 * {@code parityTolerance} (1e-5 when it names none; an int8 bundle names its own, its fixtures scored by the int8
 * graph). This warms the session, the caches and the page cache, and catches a bad export before it answers anyone.
 */
final class ParityWarmup {

    private static final JsonMapper JSON = JsonMapper.builder().build();

    private ParityWarmup() {}

    /**
     * @return the largest difference between a served score and its fixture
     * @throws InvalidBundleException naming the first fixture and task that differ, or an unreadable line
     */
    static double check(LoadedModel model) {
        Manifest manifest = model.manifest();
        double tolerance = manifest.parityToleranceOrDefault();
        double maxDifference = 0;
        if (manifest.parityFixtures() == null) {
            throw new InvalidBundleException("manifest.json: parityFixtures is missing; every model is checked"
                    + " against its fixtures before it serves");
        }
        Path file = model.bundle().file(manifest.parityFixtures());
        List<String> lines = readLines(file);
        int mismatches = 0;
        String firstMismatch = null;
        for (int line = 1; line <= lines.size(); line++) {
            String where = manifest.parityFixtures() + " line " + line;
            JsonNode fixture = parse(lines.get(line - 1), where);
            ScoreRequest request = JSON.treeToValue(fixture.get("request"), ScoreRequest.class);
            List<CandidateScores> results = model.scorer().score(request, Deadline.none(), StageTimings.NONE).results();
            JsonNode expected = fixture.get("expected");
            if (expected == null || expected.size() != results.size()) {
                throw new InvalidBundleException(where + ": expected has no entry per candidate");
            }
            for (int c = 0; c < results.size(); c++) {
                for (Map.Entry<String, Double> score : results.get(c).scores().entrySet()) {
                    JsonNode reference = expected.get(c).get(score.getKey());
                    double difference = reference == null ? Double.POSITIVE_INFINITY
                            : Math.abs(score.getValue() - reference.asDouble());
                    maxDifference = Math.max(maxDifference, difference);
                    if (difference > tolerance) {
                        mismatches++;
                        if (firstMismatch == null) {
                            firstMismatch = where + ", candidate " + c + ", task " + score.getKey() + ": scored "
                                    + score.getValue() + ", expected " + reference;
                        }
                    }
                }
            }
        }
        if (mismatches > 0) {
            throw new InvalidBundleException("warm-up: " + mismatches + " scores differ from the parity fixtures by"
                    + " more than " + tolerance + " (parityTolerance of this " + manifest.precision()
                    + " bundle), first at " + firstMismatch);
        }
        return maxDifference;
    }

    private static List<String> readLines(Path file) {
        try {
            return Files.readAllLines(file);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the parity fixtures " + file, e);
        }
    }

    private static JsonNode parse(String line, String where) {
        try {
            return JSON.readTree(line);
        } catch (JacksonException e) {
            throw new InvalidBundleException(where + ": not JSON: " + e.getOriginalMessage(), e);
        }
    }
}
