package dev.stemnet.service.scoring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.entry;

import java.math.BigDecimal;
import java.math.MathContext;
import java.math.RoundingMode;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import tools.jackson.core.StreamWriteFeature;
import tools.jackson.core.type.TypeReference;
import tools.jackson.databind.DeserializationFeature;
import tools.jackson.databind.json.JsonMapper;

class TaskScoresTest {

    private static final String[] TASKS = {"follow", "pay"};
    // The model has three tasks; the request asked for the first and the third.
    private static final int[] COLUMNS = {0, 2};
    private static final JsonMapper DECIMAL_READER =
            JsonMapper.builder().enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS).build();

    @Test
    void isAMapOfTheKeptTasksInManifestOrder() {
        TaskScores scores = new TaskScores(TASKS, COLUMNS, new float[] {0.25f, 0.5f, 0.125f});

        Map<String, Double> expected = new LinkedHashMap<>();
        expected.put("follow", 0.25);
        expected.put("pay", 0.125);
        assertThat(scores).containsExactly(entry("follow", 0.25), entry("pay", 0.125));
        assertThat(scores).isEqualTo(expected);
        assertThat(scores.hashCode()).isEqualTo(expected.hashCode());
        assertThat(scores.get("pay")).isEqualTo(0.125);
        assertThat(scores.get("activation")).isNull();
        assertThat(scores.containsKey("activation")).isFalse();
        assertThat(scores.task(1)).isEqualTo("pay");
        assertThat(scores.score(1)).isEqualTo(0.125);
    }

    /**
     * Each score is written as a decimal that reads back to the model's very float, and with the service's writer
     * (JsonConfiguration) as few digits as any such decimal has: random floats of [0, 1] and of many magnitudes, and
     * the edges (0, 1, the smallest subnormal, the largest subnormal, the smallest normal, just below 1).
     */
    @Test
    void writesEachScoreAsTheShortestDecimalThatReadsBackToTheModelsFloat() {
        JsonMapper service = JsonMapper.builder().enable(StreamWriteFeature.USE_FAST_DOUBLE_WRITER).build();
        JsonMapper plain = JsonMapper.builder().build();
        List<Float> edges = List.of(0f, 1f, Float.MIN_VALUE, Math.nextDown(Float.MIN_NORMAL), Float.MIN_NORMAL,
                Math.nextDown(1f), 1e-10f, 0.1f, 0.3f);
        SplittableRandom random = new SplittableRandom(7);
        for (int i = 0; i < 20_000; i++) {
            float[] row = {
                    i < edges.size() ? edges.get(i) : (float) Math.pow(10, -8 * random.nextDouble()),
                    Float.intBitsToFloat(random.nextInt(0x3f800001)),
                    random.nextFloat()};
            TaskScores scores = new TaskScores(TASKS, COLUMNS, row);

            Map<String, BigDecimal> written = writtenDecimals(service, scores);
            Map<String, BigDecimal> writtenByJava = writtenDecimals(plain, scores);
            assertThat(written.keySet()).containsExactly(TASKS);
            for (int t = 0; t < TASKS.length; t++) {
                float score = row[COLUMNS[t]];
                BigDecimal decimal = written.get(TASKS[t]);
                assertThat(Float.parseFloat(decimal.toString())).as("%s for %s", decimal, score).isEqualTo(score);
                // Schubfach, like Java 19's Float.toString, writes the closest two-digit decimal where one digit would do.
                assertThat(significantDigits(decimal)).as("%s for %s", decimal, score)
                        .isLessThanOrEqualTo(Math.max(2, fewestDigitsReadingBackTo(score)));
                assertThat(Float.parseFloat(writtenByJava.get(TASKS[t]).toString())).isEqualTo(score);
            }
        }
    }

    /** The decimals of a written TaskScores exactly as written, by task. */
    private static Map<String, BigDecimal> writtenDecimals(JsonMapper mapper, TaskScores scores) {
        return DECIMAL_READER.readValue(mapper.writeValueAsString(scores),
                new TypeReference<LinkedHashMap<String, BigDecimal>>() {});
    }

    private static int significantDigits(BigDecimal decimal) {
        return decimal.signum() == 0 ? 1 : decimal.stripTrailingZeros().precision();
    }

    /** The fewest significant digits of a decimal that reads back to {@code value}: rounded down or up, one fits. */
    private static int fewestDigitsReadingBackTo(float value) {
        if (value == 0) {
            return 1;
        }
        BigDecimal exact = new BigDecimal(value);
        for (int digits = 1; ; digits++) {
            for (RoundingMode mode : List.of(RoundingMode.FLOOR, RoundingMode.CEILING)) {
                if (Float.parseFloat(exact.round(new MathContext(digits, mode)).toString()) == value) {
                    return digits;
                }
            }
        }
    }

    @Test
    void writesItselfInsideAResponseAsAnObjectOfNumbers() {
        JsonMapper mapper = JsonMapper.builder().enable(StreamWriteFeature.USE_FAST_DOUBLE_WRITER).build();
        CandidateScores result = new CandidateScores("a1", new TaskScores(TASKS, COLUMNS, new float[] {0.5f, 0f, 0.25f}));

        assertThat(mapper.writeValueAsString(result)).isEqualTo("{\"itemId\":\"a1\",\"scores\":{\"follow\":0.5,\"pay\":0.25}}");
    }
}
