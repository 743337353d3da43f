package dev.stemnet.service.config;

import dev.stemnet.service.api.ServingWarmup;
import dev.stemnet.service.bundle.BundleLoader;
import dev.stemnet.service.config.EmbeddingStoreProperties.StoreKind;
import dev.stemnet.service.delta.DeltaApplier;
import dev.stemnet.service.delta.DeltaEvents;
import dev.stemnet.service.delta.DeltaReader;
import dev.stemnet.service.embedding.EmbeddingStoreFactory;
import dev.stemnet.service.experiment.Experiments;
import dev.stemnet.service.experiment.ExposureLog;
import dev.stemnet.service.inference.DeviceSelector;
import dev.stemnet.service.inference.GpuProbe;
import dev.stemnet.service.metrics.ScoringMetrics;
import dev.stemnet.service.metrics.ShadowMetrics;
import dev.stemnet.service.model.ModelEvents;
import dev.stemnet.service.model.ModelLoader;
import dev.stemnet.service.model.ModelRegistry;
import dev.stemnet.service.model.ModelRepository;
import dev.stemnet.service.model.ModelWarmup;
import dev.stemnet.service.model.RepositoryWatcher;
import dev.stemnet.service.model.StoredDeltas;
import dev.stemnet.service.pipeline.Admission;
import dev.stemnet.service.pipeline.ScoringPipeline;
import dev.stemnet.service.pipeline.ScoringRecorder;
import dev.stemnet.service.pipeline.ShadowProperties;
import dev.stemnet.service.pipeline.ShadowScoring;
import jakarta.validation.Validator;
import java.util.List;
import java.util.Optional;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBooleanProperty;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import tools.jackson.databind.json.JsonMapper;

/**
 * The model repository and where requests find its models. The first scan runs in the background once the
 * application starts, so liveness answers while large models load; readiness waits for the default model.
 */
@Configuration(proxyBeanMethods = false)
class ModelConfiguration {

    @Bean
    ModelRegistry modelRegistry(StemProperties properties, ModelEvents events) {
        return new ModelRegistry(properties.models().defaultModel(), events);
    }

    /** A bean of its own, so that a test can watch it through a {@code @Primary} {@link ModelWarmup}. */
    @Bean
    ServingWarmup servingWarmup(JsonMapper json, Validator validator, StemProperties properties) {
        return new ServingWarmup(json, validator, properties.warmup(), properties.scoring().maxCandidates());
    }

    /**
     * With the mapped-file store deltas come from the repository, beside the bundles; with Redis the delta loader
     * writes them into Redis, and every replica follows them there ({@code EmbeddingStoreConfiguration}).
     */
    @Bean
    ModelRepository modelRepository(StemProperties properties, EmbeddingStoreProperties embedding, Validator validator,
            ModelRegistry registry, ModelEvents events, EmbeddingStoreFactory embeddingStores, ModelWarmup warmup,
            StoredDeltas storedDeltas, DeltaEvents deltaEvents) {
        ModelLoader loader = new ModelLoader(
                new BundleLoader(validator),
                properties.runtime(),
                embeddingStores,
                new DeviceSelector(GpuProbe.nvidiaDriver()),
                properties.scoring().unknownFeatures(),
                warmup,
                storedDeltas);
        DeltaApplier repositoryDeltas = embedding.store() == StoreKind.MAPPED
                ? new DeltaApplier(new DeltaReader(validator), deltaEvents)
                : null;
        ModelRepository repository = new ModelRepository(properties.models().repository(), loader, registry, events,
                repositoryDeltas);
        repository.scanInBackground();
        return repository;
    }

    @Bean
    @ConditionalOnBooleanProperty("stem.models.watch")
    RepositoryWatcher repositoryWatcher(ModelRepository repository, StemProperties properties) {
        return new RepositoryWatcher(repository, properties.models().watchDebounce());
    }

    @Bean
    Admission admission(StemProperties properties) {
        return new Admission(properties.scoring().maxConcurrent(), properties.scoring().maxQueued());
    }

    /** Recorders: the model meters, the experiment meters and, when configured, the exposure log. */
    @Bean
    ScoringPipeline scoringPipeline(Admission admission, Experiments experiments, ModelRegistry registry,
            ScoringMetrics metrics, List<ScoringRecorder> recorders, ShadowScoring shadowScoring,
            StemProperties properties) {
        return new ScoringPipeline(admission, experiments, registry, metrics, recorders, shadowScoring,
                properties.scoring().maxCandidates());
    }

    @Bean
    ShadowScoring shadowScoring(ShadowProperties properties, ModelRegistry registry, Admission admission,
            ShadowMetrics metrics, Optional<ExposureLog> exposureLog) {
        return new ShadowScoring(properties, registry, admission, metrics, exposureLog);
    }
}
