package dev.stemnet.service.scoring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.entry;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import tools.jackson.core.StreamWriteFeature;
import tools.jackson.core.type.TypeReference;
import tools.jackson.databind.json.JsonMapper;

class TaskScoresTest {

    private static final String[] TASKS = {"follow", "pay"};
    // The model has three tasks; the request asked for the first and the third.
    private static final int[] COLUMNS = {0, 2};

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

    @Test
    void writesTheSameJsonAsTheMapWouldAndEveryScoreReadsBackToTheModelsFloat() {
        // As the service's JSON mapper (JsonConfiguration) writes doubles, and as a plain mapper does.
        for (JsonMapper mapper : new JsonMapper[] {
                JsonMapper.builder().enable(StreamWriteFeature.USE_FAST_DOUBLE_WRITER).build(),
                JsonMapper.builder().build()}) {
            SplittableRandom random = new SplittableRandom(7);
            for (int i = 0; i < 20_000; i++) {
                // Probabilities spread over many magnitudes, as conversion rates are, plus the edges.
                float[] row = {
                        (float) Math.pow(10, -8 * random.nextDouble()),
                        i == 0 ? 0f : i == 1 ? 1f : Float.intBitsToFloat(random.nextInt(0x3f800000)),
                        random.nextFloat()};
                TaskScores scores = new TaskScores(TASKS, COLUMNS, row);

                String json = mapper.writeValueAsString(scores);
                assertThat(json).isEqualTo(mapper.writeValueAsString(new LinkedHashMap<>(scores)));
                Map<String, Double> read = mapper.readValue(json, new TypeReference<>() {});
                assertThat(read.keySet()).containsExactly(TASKS);
                assertThat(read.get("follow")).as(json).isEqualTo((double) row[0]);
                assertThat(read.get("pay")).as(json).isEqualTo((double) row[2]);
                assertThat(read.get("pay").floatValue()).isEqualTo(row[2]);
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
