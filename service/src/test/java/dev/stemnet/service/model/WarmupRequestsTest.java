package dev.stemnet.service.model;

import static org.assertj.core.api.Assertions.assertThat;

import dev.stemnet.service.TestBundle;
import dev.stemnet.service.bundle.Manifest;
import dev.stemnet.service.bundle.Manifest.FieldSpec;
import dev.stemnet.service.bundle.Manifest.Side;
import dev.stemnet.service.embedding.EmbeddingStoreFactory;
import dev.stemnet.service.scoring.Deadline;
import dev.stemnet.service.scoring.FeatureIssues;
import dev.stemnet.service.scoring.ScoreRequest;
import dev.stemnet.service.scoring.ScoreRequest.Candidate;
import dev.stemnet.service.scoring.ScoredRequest;
import dev.stemnet.service.scoring.StageTimings;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

class WarmupRequestsTest {

    private static final int CANDIDATES = 200;
    private static final int REQUESTS = 20;

    @Test
    void generatesRequestsOfTheConfiguredSizeWithEveryFieldThatTheScorerTakesWithoutAnUnknownFeature() {
        try (LoadedModel model = TestModelLoader.of(EmbeddingStoreFactory.mappedFiles(), TestModelLoader.PARITY_ONLY)
                .load(TestBundle.directory())) {
            Manifest manifest = model.manifest();
            Set<String> userFields = featureNames(manifest, Side.USER, manifest.userIdField());
            Set<String> itemFields = featureNames(manifest, Side.ITEM, manifest.itemIdField());
            WarmupRequests traffic = new WarmupRequests(model.bundle(), CANDIDATES, 1);
            long featureValues = 0;
            long unknownFeatureValues = 0;

            for (int r = 0; r < REQUESTS; r++) {
                ScoreRequest request = traffic.next();

                assertThat(request.userFeatures().keySet()).isEqualTo(userFields);
                assertThat(request.candidates()).hasSize(CANDIDATES);
                assertThat(request.candidates().stream().map(Candidate::itemId).collect(Collectors.toSet()))
                        .as("distinct item ids").hasSize(CANDIDATES);
                for (Candidate candidate : request.candidates()) {
                    assertThat(candidate.features().keySet()).isEqualTo(itemFields);
                    assertThat(candidate.features().values()).allMatch(Objects::nonNull);
                }
                ScoredRequest scored = model.scorer().score(request, Deadline.none(), StageTimings.NONE);
                FeatureIssues issues = scored.featureIssues();
                assertThat(scored.results()).hasSize(CANDIDATES);
                assertThat(issues.unknownFeatures()).isEmpty();
                assertThat(issues.missingValues()).isEmpty();
                featureValues += userFields.size() + (long) CANDIDATES * itemFields.size();
                unknownFeatureValues += sumExcept(issues.unknownValues(), manifest.userIdField(), manifest.itemIdField());
            }

            // About 5% unseen; the rest are the vocabularies' own values.
            assertThat((double) unknownFeatureValues / featureValues).isBetween(0.02, 0.1);
        }
    }

    private static Set<String> featureNames(Manifest manifest, Side side, String idField) {
        Set<String> names = new HashSet<>();
        for (FieldSpec field : manifest.fields()) {
            if (field.side() == side && !field.name().equals(idField)) {
                names.add(field.name());
            }
        }
        return names;
    }

    private static long sumExcept(Map<String, Integer> countsByField, String... left) {
        return countsByField.entrySet().stream().filter(e -> !List.of(left).contains(e.getKey()))
                .mapToLong(Map.Entry::getValue).sum();
    }
}
