package dev.stemnet.service.model;

import dev.stemnet.service.bundle.BundleLoader;
import dev.stemnet.service.bundle.Manifest;
import dev.stemnet.service.bundle.ModelBundle;
import dev.stemnet.service.delta.DeltaLog;
import dev.stemnet.service.embedding.EmbeddingStore;
import dev.stemnet.service.embedding.EmbeddingStoreFactory;
import dev.stemnet.service.inference.DeviceSelector;
import dev.stemnet.service.inference.OnnxModel;
import dev.stemnet.service.inference.RuntimeSettings;
import dev.stemnet.service.scoring.Scorer;
import dev.stemnet.service.scoring.UnknownFeaturePolicy;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Puts a model together from a bundle directory: checked bundle, cached embedding rows, ONNX session, the deltas
 * its store holds already (Redis), then the parity check and the warm-up. Whatever was opened is closed again when
 * a step fails.
 */
public final class ModelLoader {

    private static final Logger log = LoggerFactory.getLogger(ModelLoader.class);

    private final BundleLoader bundleLoader;
    private final RuntimeSettings runtimeSettings;
    private final EmbeddingStoreFactory embeddingStores;
    private final DeviceSelector deviceSelector;
    private final UnknownFeaturePolicy unknownFeatures;
    private final ModelWarmup warmup;
    private final StoredDeltas storedDeltas;

    public ModelLoader(BundleLoader bundleLoader, RuntimeSettings runtimeSettings, EmbeddingStoreFactory embeddingStores,
            DeviceSelector deviceSelector, UnknownFeaturePolicy unknownFeatures, ModelWarmup warmup) {
        this(bundleLoader, runtimeSettings, embeddingStores, deviceSelector, unknownFeatures, warmup, StoredDeltas.NONE);
    }

    /**
     * @param embeddingStores opens the (cached) store of a bundle's embedding rows
     * @param warmup          runs once the parity check passed, before the model is returned
     * @param storedDeltas    applies the deltas the store holds for the version before its parity check
     */
    public ModelLoader(BundleLoader bundleLoader, RuntimeSettings runtimeSettings, EmbeddingStoreFactory embeddingStores,
            DeviceSelector deviceSelector, UnknownFeaturePolicy unknownFeatures, ModelWarmup warmup,
            StoredDeltas storedDeltas) {
        this.bundleLoader = bundleLoader;
        this.runtimeSettings = runtimeSettings;
        this.embeddingStores = embeddingStores;
        this.deviceSelector = deviceSelector;
        this.unknownFeatures = unknownFeatures;
        this.warmup = warmup;
        this.storedDeltas = storedDeltas;
    }

    /** @throws RuntimeException when the bundle fails a check or its warm-up; nothing is left open */
    public LoadedModel load(Path bundleDir) {
        Instant loadedAt = Instant.now();
        long started = System.nanoTime();
        ModelBundle bundle = bundleLoader.load(bundleDir);
        Manifest manifest = bundle.manifest();
        EmbeddingStore store = embeddingStores.open(bundle);
        OnnxModel network;
        try {
            network = OnnxModel.open(bundle.file(manifest.onnx().file()), manifest.onnx(), runtimeSettings, deviceSelector);
        } catch (RuntimeException e) {
            store.close();
            throw e;
        }
        Scorer scorer = new Scorer(bundle, store, network, unknownFeatures);
        LoadedModel model = new LoadedModel(bundle, store, network, scorer, loadedAt, Duration.ZERO, new DeltaLog());
        double parityDifference;
        WarmupReport warmed;
        try {
            parityDifference = ParityWarmup.check(model, storedDeltas.catchUp(model));
            warmed = warmup.warmUp(model);
        } catch (RuntimeException e) {
            model.close();
            throw e;
        }
        Duration loadDuration = Duration.ofNanos(System.nanoTime() - started);
        log.info("Loaded and warmed up model {} version {} ({}, deltas applied from the store: {}, parity largest"
                + " difference {}; {} generated requests of {} candidates in {} ms) from {} in {} ms, running on {}",
                manifest.model().name(), manifest.model().version(), manifest.precision(),
                scorer.embeddings().sequence(), parityDifference, warmed.requests(), warmed.candidates(),
                warmed.duration().toMillis(), bundle.directory(), loadDuration.toMillis(), network.deviceChoice());
        return new LoadedModel(bundle, store, network, scorer, loadedAt, loadDuration, model.deltas());
    }
}
