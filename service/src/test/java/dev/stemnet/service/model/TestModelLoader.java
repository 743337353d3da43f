package dev.stemnet.service.model;

import ai.onnxruntime.OrtSession.SessionOptions.OptLevel;
import dev.stemnet.service.bundle.BundleLoader;
import dev.stemnet.service.embedding.EmbeddingStoreFactory;
import dev.stemnet.service.inference.DeviceMode;
import dev.stemnet.service.inference.DeviceSelector;
import dev.stemnet.service.inference.GpuProbe;
import dev.stemnet.service.inference.RuntimeSettings;
import dev.stemnet.service.scoring.UnknownFeaturePolicy;
import jakarta.validation.Validation;
import java.time.Duration;

/** The service's model loader without Spring, for tests that load bundles themselves: settings as in application.yaml. */
public final class TestModelLoader {

    /** Serves each version once its parity check passed, as the service did before the generated-traffic warm-up. */
    public static final ModelWarmup PARITY_ONLY = model -> new WarmupReport(0, 0, Duration.ZERO);

    private TestModelLoader() {}

    public static ModelLoader of(EmbeddingStoreFactory stores, ModelWarmup warmup) {
        return new ModelLoader(
                new BundleLoader(Validation.buildDefaultValidatorFactory().getValidator()),
                new RuntimeSettings(DeviceMode.AUTO, 1, OptLevel.ALL_OPT),
                stores,
                new DeviceSelector(GpuProbe.nvidiaDriver()),
                UnknownFeaturePolicy.REJECT,
                warmup);
    }
}
