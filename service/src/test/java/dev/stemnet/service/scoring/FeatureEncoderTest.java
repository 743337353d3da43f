package dev.stemnet.service.scoring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.stemnet.service.bundle.Manifest;
import dev.stemnet.service.bundle.Manifest.FieldSpec;
import dev.stemnet.service.bundle.Manifest.ModelInfo;
import dev.stemnet.service.bundle.Manifest.Side;
import dev.stemnet.service.bundle.Manifest.TableField;
import dev.stemnet.service.bundle.Manifest.TableSpec;
import dev.stemnet.service.bundle.ModelBundle;
import dev.stemnet.service.bundle.Vocabulary;
import dev.stemnet.service.scoring.ScoreRequest.Candidate;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.Supplier;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

class FeatureEncoderTest {

    private static final ModelBundle BUNDLE = bundle(Map.of(
            "user_id", Vocabulary.of(List.of("u1", "u2", "u3")),
            "device", Vocabulary.of(List.of("ios", "android")),
            "ad_id", Vocabulary.of(List.of("a1", "a2", "a3")),
            "category", Vocabulary.of(List.of("c1", "c2"))));

    private final FeatureEncoder encoder = new FeatureEncoder(BUNDLE, UnknownFeaturePolicy.REJECT);
    private final FeatureIssues issues = new FeatureIssues();

    /**
     * Table "shared" holds all four fields; "task:follow" only ad_id and device, in that order, to show the
     * rows follow each table's own field order.
     */
    private static ModelBundle bundle(Map<String, Vocabulary> vocabularies) {
        return new ModelBundle(
                Path.of("/unused"),
                new Manifest(1, new ModelInfo("m", "v1", "stem_net", Map.of()), List.of("follow"), 2, 1,
                        "user_id", "ad_id", null,
                        List.of(
                                new FieldSpec("user_id", Side.USER, "vocab/user_id.txt", 4),
                                new FieldSpec("device", Side.USER, "vocab/device.txt", 3),
                                new FieldSpec("ad_id", Side.ITEM, "vocab/ad_id.txt", 4),
                                new FieldSpec("category", Side.ITEM, "vocab/category.txt", 3)),
                        List.of(
                                new TableSpec("shared", "tables/shared.f32", 14, 2, List.of(
                                        new TableField("user_id", 0), new TableField("device", 4),
                                        new TableField("ad_id", 7), new TableField("category", 11))),
                                new TableSpec("task:follow", "tables/task_follow.f32", 7, 2, List.of(
                                        new TableField("ad_id", 0), new TableField("device", 4)))),
                        null, null, null, Map.of(), Map.of(), null),
                vocabularies);
    }

    @Test
    void mapsValuesToRowOffsetPlusVocabularyIndexWithUnknownAndMissingValuesOnTheOovRow() {
        ScoreRequest request = request(Map.of("device", "android"),
                new Candidate("a3", Map.of("category", "c1")),
                new Candidate("a9-unknown", Map.of()));

        long[][] rows = encoder.encode(request, issues);

        assertThat(rows[0]).containsExactly(
                2, 4 + 2, 7 + 3, 11 + 1,
                2, 4 + 2, 7 + 0, 11 + 0);
        assertThat(rows[1]).containsExactly(
                0 + 3, 4 + 2,
                0 + 0, 4 + 2);
    }

    /**
     * A bundle with a context field ("tab", last) whose missing values are a category of their own ("<missing>",
     * in the device and tab vocabularies): one table over every field.
     */
    private static FeatureEncoder contextEncoder() {
        Manifest manifest = new Manifest(1, new ModelInfo("m", "v1", "stem_net", Map.of()), List.of("follow"), 2, 1,
                "user_id", "ad_id", "<missing>",
                List.of(new FieldSpec("user_id", Side.USER, "vocab/user_id.txt", 3),
                        new FieldSpec("device", Side.USER, "vocab/device.txt", 3),
                        new FieldSpec("ad_id", Side.ITEM, "vocab/ad_id.txt", 3),
                        new FieldSpec("tab", Side.CONTEXT, "vocab/tab.txt", 4)),
                List.of(new TableSpec("shared", "tables/shared.f32", 13, 2, List.of(new TableField("user_id", 0),
                        new TableField("device", 3), new TableField("ad_id", 6), new TableField("tab", 9)))),
                null, null, null, Map.of(), Map.of(), null);
        Map<String, Vocabulary> vocabularies = Map.of(
                "user_id", Vocabulary.of(List.of("u1", "u2")),
                "device", Vocabulary.of(List.of("ios", "<missing>")),
                "ad_id", Vocabulary.of(List.of("a1", "a2")),
                "tab", Vocabulary.of(List.of("home", "live", "<missing>")));
        return new FeatureEncoder(new ModelBundle(Path.of("/unused"), manifest, vocabularies),
                UnknownFeaturePolicy.REJECT);
    }

    @Test
    void givesEveryCandidateTheRequestsContextValues() {
        ScoreRequest request = new ScoreRequest("r", null, "u2", Map.of("device", "ios"),
                List.of(new Candidate("a1", Map.of()), new Candidate("a2", Map.of())), null, Map.of("tab", "live"));

        long[][] rows = contextEncoder().encode(request, issues);

        assertThat(rows[0]).containsExactly(2, 3 + 1, 6 + 1, 9 + 2, 2, 3 + 1, 6 + 2, 9 + 2);
    }

    @Test
    void scoresAMissingValueWithTheBundlesMissingValueRowAndStillCountsItMissing() {
        ScoreRequest request = new ScoreRequest("r", null, "u1", Map.of(), List.of(new Candidate("a1", Map.of())),
                null, Map.of());

        long[][] rows = contextEncoder().encode(request, issues);

        // device and tab missing: their "<missing>" rows, not the OOV rows (3 + 0, 9 + 0).
        assertThat(rows[0]).containsExactly(1, 3 + 2, 6 + 1, 9 + 3);
        assertThat(issues.missingValues()).containsOnly(Map.entry("device", 1), Map.entry("tab", 1));
    }

    @Test
    void refusesAContextFeatureTheModelDoesNotHaveNamingContextFeatures() {
        ScoreRequest request = new ScoreRequest("r", null, "u1", Map.of(), List.of(new Candidate("a1", Map.of())),
                null, Map.of("device", "ios"));

        assertThatThrownBy(() -> contextEncoder().encode(request, issues))
                .isInstanceOfSatisfying(InvalidRequestException.class,
                        e -> assertThat(e.field()).isEqualTo("contextFeatures.device"))
                .hasMessageContaining("[tab]");
    }

    @Test
    void refusesAnItemFeatureTheModelDoesNotHave() {
        ScoreRequest request = request(Map.of(),
                new Candidate("a1", Map.of()),
                new Candidate("a2", Map.of("colour", "red")));

        assertThatThrownBy(() -> encoder.encode(request, issues))
                .isInstanceOfSatisfying(InvalidRequestException.class,
                        e -> assertThat(e.field()).isEqualTo("candidates[1].features.colour"))
                .hasMessageContaining("[category]");
    }

    @Test
    void refusesAnItemFieldAmongTheUserFeatures() {
        ScoreRequest request = request(Map.of("category", "c1"), new Candidate("a1", Map.of()));

        assertThatThrownBy(() -> encoder.encode(request, issues))
                .isInstanceOfSatisfying(InvalidRequestException.class,
                        e -> assertThat(e.field()).isEqualTo("userFeatures.category"));
    }

    @Test
    void refusesTheUserIdFieldAmongTheUserFeatures() {
        ScoreRequest request = request(Map.of("user_id", "u3"), new Candidate("a1", Map.of()));

        assertThatThrownBy(() -> encoder.encode(request, issues))
                .isInstanceOfSatisfying(InvalidRequestException.class,
                        e -> assertThat(e.field()).isEqualTo("userFeatures.user_id"))
                .hasMessageContaining("userId");
    }

    @Test
    void countsMissingAndUnknownValuesByField() {
        ScoreRequest request = request(Map.of("device", "android"),
                new Candidate("a3", Map.of("category", "c-unknown")),
                new Candidate("a9-unknown", Map.of()));

        encoder.encode(request, issues);

        assertThat(issues.missingValues()).containsExactlyEntriesOf(Map.of("category", 1));
        assertThat(issues.unknownValues()).containsOnly(Map.entry("category", 1), Map.entry("ad_id", 1));
    }

    @Test
    void refusedUnknownFeaturesAreCountedUnderTheirNameOnlyWhenTheModelKnowsIt() {
        ScoreRequest request = request(Map.of("category", "c1"), new Candidate("a1", Map.of()));

        assertThatThrownBy(() -> encoder.encode(request, issues)).isInstanceOf(InvalidRequestException.class);
        assertThat(issues.unknownFeatures()).containsExactlyEntriesOf(Map.of("category", 1));
    }

    @Test
    void ignoresUnknownFeaturesWhenConfiguredAndCountsThemWithABoundedLabel() {
        FeatureEncoder ignoring = new FeatureEncoder(BUNDLE, UnknownFeaturePolicy.IGNORE);
        ScoreRequest request = request(Map.of("shoe_size", "44"),
                new Candidate("a3", Map.of("colour", "red", "device", "ios", "category", "c1")));

        long[][] rows = ignoring.encode(request, issues);

        assertThat(rows[0]).containsExactly(2, 4 + 0, 7 + 3, 11 + 1);
        assertThat(issues.unknownFeatures()).containsOnly(
                Map.entry(FeatureIssues.OTHER_FEATURE, 2), Map.entry("device", 1));
    }

    /**
     * Random requests encode as looking every slot's value up in the vocabulary would, and every missing or unknown
     * value counts once per occurrence: values repeat within a request, some are unknown, null or left out, and
     * "Aa" and "BB" have the same hash code while only one of them is known.
     */
    @Test
    void encodesRandomRequestsAsAVocabularyLookupPerSlotWouldAndCountsEveryOccurrence() {
        ModelBundle bundle = bundle(Map.of(
                "user_id", Vocabulary.of(numbered("u", 50)),
                "device", Vocabulary.of(List.of("ios", "android")),
                "ad_id", Vocabulary.of(Stream.concat(numbered("a", 300).stream(), Stream.of("Aa")).toList()),
                "category", Vocabulary.of(Stream.concat(numbered("c", 10).stream(), Stream.of("BB")).toList())));
        FeatureEncoder randomEncoder = new FeatureEncoder(bundle, UnknownFeaturePolicy.REJECT);
        SplittableRandom random = new SplittableRandom(11);
        for (int r = 0; r < 300; r++) {
            ScoreRequest request = randomRequest(random);
            FeatureIssues encoded = new FeatureIssues();
            FeatureIssues expected = new FeatureIssues();

            long[][] rows = randomEncoder.encode(request, encoded);

            assertThat(rows).as("request %d", r).isDeepEqualTo(lookedUpSlotBySlot(bundle, request, expected));
            assertThat(encoded.missingValues()).as("request %d", r).isEqualTo(expected.missingValues());
            assertThat(encoded.unknownValues()).as("request %d", r).isEqualTo(expected.unknownValues());
        }
    }

    /** 1 to 250 candidates whose values come from a pool of 1 to 20 per field, each a new String as JSON makes. */
    private static ScoreRequest randomRequest(SplittableRandom random) {
        List<String> adIds = pool(random, () -> random.nextInt(8) == 0 ? (random.nextBoolean() ? "Aa" : "BB")
                : "a" + random.nextInt(330));
        List<String> categories = pool(random, () -> switch (random.nextInt(6)) {
            case 0 -> null;
            case 1 -> random.nextBoolean() ? "Aa" : "BB";
            default -> "c" + random.nextInt(12);
        });
        Map<String, String> userFeatures = new HashMap<>();
        if (random.nextInt(4) > 0) {
            userFeatures.put("device", List.of("ios", "android", "watch").get(random.nextInt(3)));
        }
        List<Candidate> candidates = new ArrayList<>();
        for (int b = 1 + random.nextInt(250); b > 0; b--) {
            Map<String, String> features = new HashMap<>();
            if (random.nextInt(5) > 0) {
                features.put("category", copy(categories.get(random.nextInt(categories.size()))));
            }
            candidates.add(new Candidate(copy(adIds.get(random.nextInt(adIds.size()))), features));
        }
        return new ScoreRequest("r", null, "u" + random.nextInt(60), userFeatures, candidates, null);
    }

    private static List<String> pool(SplittableRandom random, Supplier<String> value) {
        return Stream.generate(value).limit(1 + random.nextInt(20)).toList();
    }

    private static String copy(String value) {
        return value == null ? null : new String(value);
    }

    private static List<String> numbered(String prefix, int count) {
        return IntStream.range(0, count).mapToObj(i -> prefix + i).toList();
    }

    /** Every slot's row from its own vocabulary lookup, and each missing or unknown value counted where it occurs. */
    private static long[][] lookedUpSlotBySlot(ModelBundle bundle, ScoreRequest request, FeatureIssues issues) {
        Manifest manifest = bundle.manifest();
        for (FieldSpec field : manifest.fields()) {
            for (int b = 0; b < (field.side() == Side.USER ? 1 : request.candidates().size()); b++) {
                String value = valueOf(manifest, field.name(), request, request.candidates().get(b));
                if (value == null) {
                    issues.missingValue(field.name());
                } else if (bundle.vocabulary(field.name()).indexOf(value) == Vocabulary.OOV_INDEX) {
                    issues.unknownValue(field.name());
                }
            }
        }
        long[][] rows = new long[manifest.tables().size()][];
        for (int t = 0; t < rows.length; t++) {
            List<TableField> tableFields = manifest.tables().get(t).fields();
            rows[t] = new long[request.candidates().size() * tableFields.size()];
            for (int b = 0; b < request.candidates().size(); b++) {
                for (int j = 0; j < tableFields.size(); j++) {
                    String field = tableFields.get(j).name();
                    String value = valueOf(manifest, field, request, request.candidates().get(b));
                    rows[t][b * tableFields.size() + j] =
                            tableFields.get(j).rowOffset() + bundle.vocabulary(field).indexOf(value);
                }
            }
        }
        return rows;
    }

    private static String valueOf(Manifest manifest, String field, ScoreRequest request, Candidate candidate) {
        boolean user = manifest.fields().stream().anyMatch(spec -> spec.name().equals(field) && spec.side() == Side.USER);
        if (user) {
            return field.equals(manifest.userIdField()) ? request.userId() : request.userFeatures().get(field);
        }
        return field.equals(manifest.itemIdField()) ? candidate.itemId() : candidate.features().get(field);
    }

    private static ScoreRequest request(Map<String, String> userFeatures, Candidate... candidates) {
        return new ScoreRequest("r1", null, "u2", userFeatures, List.of(candidates), null);
    }
}
