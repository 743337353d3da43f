package dev.stemnet.service.scoring;

import java.util.List;
import java.util.Map;
import java.util.function.Function;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Parity fixtures ({@code parity.jsonl} of a bundle or a delta: one {@code {"request", "expected"}} object per line)
 * scored and compared with what the trainer computed. Used by a bundle's check before it serves and by a delta's
 * before it is applied; each decides what a mismatch refuses.
 *
 * @param label names the fixtures in messages, e.g. {@code parity.jsonl} or {@code deltas/000002/parity.jsonl}
 */
public record ParityFixtures(String label, List<String> lines, double tolerance) {

    private static final JsonMapper JSON = JsonMapper.builder().build();

    public ParityFixtures {
        lines = List.copyOf(lines);
    }

    /**
     * @param lines      fixtures checked
     * @param mismatches scores further than the tolerance from the fixture's
     * @param firstMismatch where the first one is and what it scored; null without mismatches
     */
    public record Result(int lines, int mismatches, double maxDifference, String firstMismatch) {

        public boolean passed() {
            return mismatches == 0;
        }
    }

    /** A line that is not a fixture: not JSON, or no expected score per candidate. */
    public static final class MalformedFixtureException extends RuntimeException {
        MalformedFixtureException(String message, Throwable cause) {
            super(message, cause);
        }
    }

    /**
     * Scores every fixture's request with {@code scorer} and compares each score with the fixture's.
     *
     * @throws MalformedFixtureException naming the line
     */
    public Result check(Function<ScoreRequest, List<CandidateScores>> scorer) {
        double maxDifference = 0;
        int mismatches = 0;
        String firstMismatch = null;
        for (int line = 1; line <= lines.size(); line++) {
            String where = label + " line " + line;
            JsonNode fixture = parse(lines.get(line - 1), where);
            ScoreRequest request;
            try {
                request = JSON.treeToValue(fixture.get("request"), ScoreRequest.class);
            } catch (JacksonException | IllegalArgumentException e) {
                throw new MalformedFixtureException(where + ": request is not a score request: " + e.getMessage(), e);
            }
            List<CandidateScores> results = scorer.apply(request);
            JsonNode expected = fixture.get("expected");
            if (expected == null || expected.size() != results.size()) {
                throw new MalformedFixtureException(where + ": expected has no entry per candidate", null);
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
        return new Result(lines.size(), mismatches, maxDifference, firstMismatch);
    }

    private static JsonNode parse(String line, String where) {
        try {
            return JSON.readTree(line);
        } catch (JacksonException e) {
            throw new MalformedFixtureException(where + ": not JSON: " + e.getOriginalMessage(), e);
        }
    }
}
