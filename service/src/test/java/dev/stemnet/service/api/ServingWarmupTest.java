package dev.stemnet.service.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.stemnet.service.TestBundle;
import dev.stemnet.service.config.StemProperties;
import dev.stemnet.service.embedding.EmbeddingStore;
import dev.stemnet.service.embedding.EmbeddingStoreFactory;
import dev.stemnet.service.model.LoadedModel;
import dev.stemnet.service.model.TestModelLoader;
import dev.stemnet.service.model.WarmupReport;
import jakarta.validation.Validation;
import jakarta.validation.Validator;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.json.JsonMapper;

class ServingWarmupTest {

    private static final JsonMapper JSON = JsonMapper.builder().build();
    private static final Validator VALIDATOR = Validation.buildDefaultValidatorFactory().getValidator();

    @Test
    void scoresTheConfiguredNumberOfGeneratedRequestsWithTheVersionsOwnScorer() {
        // The scorer fetches each table's rows in one call per request: calls / tables = requests scored.
        AtomicInteger fetches = new AtomicInteger();
        EmbeddingStoreFactory countingStores = bundle -> {
            EmbeddingStore rows = EmbeddingStoreFactory.mappedFiles().open(bundle);
            return new EmbeddingStore() {
                @Override
                public void fetchRows(String table, long[] rowIds, float[] destination) {
                    fetches.incrementAndGet();
                    rows.fetchRows(table, rowIds, destination);
                }

                @Override
                public void close() {
                    rows.close();
                }
            };
        };
        try (LoadedModel model = TestModelLoader.of(countingStores, TestModelLoader.PARITY_ONLY)
                .load(TestBundle.directory())) {
            ServingWarmup warmup = new ServingWarmup(JSON, VALIDATOR, new StemProperties.Warmup(7, 150), 1000);
            fetches.set(0);

            WarmupReport report = warmup.warmUp(model);

            assertThat(fetches.get()).isEqualTo(7 * model.manifest().tables().size());
            assertThat(report.requests()).isEqualTo(7);
            assertThat(report.candidates()).isEqualTo(150);
        }
    }

    @Test
    void refusesMoreCandidatesThanTheServiceTakesInARequest() {
        assertThatThrownBy(() -> new ServingWarmup(JSON, VALIDATOR, new StemProperties.Warmup(10, 201), 200))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("stem.warmup.candidates (201)")
                .hasMessageContaining("stem.scoring.max-candidates (200)");
    }
}
