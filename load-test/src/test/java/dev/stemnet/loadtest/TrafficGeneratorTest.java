package dev.stemnet.loadtest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.IntStream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TrafficGeneratorTest {

    @TempDir
    static Path bundle;

    private static BundleVocabulary vocabulary;
    private final ObjectMapper json = new ObjectMapper();

    /** A bundle's manifest fields and vocabularies, the parts the generator reads. */
    @BeforeAll
    static void writeBundle() throws IOException {
        Files.createDirectories(bundle.resolve("vocab"));
        vocab("user_id", IntStream.range(0, 1000).mapToObj(i -> "u" + i).toList());
        vocab("device", List.of("ios", "android", "web"));
        vocab("ad_id", IntStream.range(0, 2000).mapToObj(i -> "a" + i).toList());
        vocab("category", List.of("c0", "c1", "c\"quoted\\"));
        Files.writeString(bundle.resolve("manifest.json"), """
                {"userIdField": "user_id", "itemIdField": "ad_id", "fields": [
                  {"name": "user_id", "side": "user", "vocabulary": "vocab/user_id.txt"},
                  {"name": "device", "side": "user", "vocabulary": "vocab/device.txt"},
                  {"name": "ad_id", "side": "item", "vocabulary": "vocab/ad_id.txt"},
                  {"name": "category", "side": "item", "vocabulary": "vocab/category.txt"}]}
                """);
        vocabulary = BundleVocabulary.read(bundle);
    }

    private static void vocab(String field, List<String> values) throws IOException {
        Files.write(bundle.resolve("vocab/" + field + ".txt"), values);
    }

    @Test
    void buildsValidScoreRequests() throws IOException {
        TrafficGenerator generator = new TrafficGenerator(vocabulary, new TrafficGenerator.Settings(50, 500, 1.1, 0.05, 7));
        Set<String> requestIds = new HashSet<>();
        for (int i = 0; i < 50; i++) {
            JsonNode request = json.readTree(generator.nextBody());
            assertTrue(requestIds.add(request.get("requestId").asText()));
            assertTrue(!request.get("userId").asText().isBlank());
            assertEquals(Set.of("device"), names(request.get("userFeatures")));
            int candidates = request.get("candidates").size();
            assertTrue(candidates >= 50 && candidates <= 500, "candidates: " + candidates);
            Set<String> itemIds = new HashSet<>();
            for (JsonNode candidate : request.get("candidates")) {
                assertTrue(itemIds.add(candidate.get("itemId").asText()), "duplicate item id");
                assertEquals(Set.of("category"), names(candidate.get("features")));
                assertTrue(List.of("c0", "c1", "c\"quoted\\").contains(candidate.get("features").get("category").asText()));
            }
        }
    }

    @Test
    void mixesInUnseenIdsAndFavoursPopularAds() throws IOException {
        TrafficGenerator generator = new TrafficGenerator(vocabulary, new TrafficGenerator.Settings(200, 200, 1.1, 0.1, 3));
        int unseen = 0;
        int mostPopular = 0;
        int total = 0;
        for (int i = 0; i < 20; i++) {
            for (JsonNode candidate : json.readTree(generator.body(200)).get("candidates")) {
                String itemId = candidate.get("itemId").asText();
                unseen += itemId.startsWith("a_unseen_") ? 1 : 0;
                mostPopular += itemId.equals("a0") ? 1 : 0;
                total++;
            }
        }
        assertEquals(4000, total);
        // ~10% unseen by construction, a little more where distinct draws ran out of tries.
        assertTrue(unseen > 300 && unseen < 700, "unseen: " + unseen);
        // The top ad is in nearly every request (at most once per request).
        assertTrue(mostPopular >= 15, "a0 in " + mostPopular + " of 20 requests");
    }

    @Test
    void sameSeedSameTraffic() {
        var settings = new TrafficGenerator.Settings(50, 60, 1.1, 0.05, 11);
        assertEquals(new TrafficGenerator(vocabulary, settings).nextBody(), new TrafficGenerator(vocabulary, settings).nextBody());
    }

    @Test
    void refusesImpossibleSettings() {
        assertThrows(IllegalArgumentException.class, () -> new TrafficGenerator.Settings(10, 5, 1.1, 0, 1));
        assertThrows(IllegalArgumentException.class, () -> new TrafficGenerator.Settings(1, 5, 1.1, 1.5, 1));
    }

    private static Set<String> names(JsonNode object) {
        Set<String> names = new HashSet<>();
        object.fieldNames().forEachRemaining(names::add);
        return names;
    }
}
