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
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class FeatureEncoderTest {

    /**
     * Table "shared" holds all four fields; "task:follow" only ad_id and device, in that order, to show the
     * rows follow each table's own field order.
     */
    private static final ModelBundle BUNDLE = new ModelBundle(
            Path.of("/unused"),
            new Manifest(1, new ModelInfo("m", "v1", "stem_net", Map.of()), List.of("follow"), 2, 1,
                    "user_id", "ad_id",
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
            Map.of(
                    "user_id", Vocabulary.of(List.of("u1", "u2", "u3")),
                    "device", Vocabulary.of(List.of("ios", "android")),
                    "ad_id", Vocabulary.of(List.of("a1", "a2", "a3")),
                    "category", Vocabulary.of(List.of("c1", "c2"))));

    private final FeatureEncoder encoder = new FeatureEncoder(BUNDLE, UnknownFeaturePolicy.REJECT);
    private final FeatureIssues issues = new FeatureIssues();

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

    private static ScoreRequest request(Map<String, String> userFeatures, Candidate... candidates) {
        return new ScoreRequest("r1", null, "u2", userFeatures, List.of(candidates), null);
    }
}
