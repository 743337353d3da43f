package dev.stemnet.service.metrics;

import dev.stemnet.service.inference.DeviceChoice;
import dev.stemnet.service.inference.OnnxModel;
import dev.stemnet.service.model.LoadedModel;
import dev.stemnet.service.model.ModelEvents;
import dev.stemnet.service.pipeline.ScoredExchange;
import dev.stemnet.service.pipeline.ScoringRecorder;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.springframework.stereotype.Component;

/**
 * The service's own meters: per loaded model version ({@link ModelMeters}), the device each version runs on,
 * its delta gauges ({@link DeltaMetrics}) and model load events. Meters of a version go away when it is closed.
 * A bundle reloaded in place under the same version serves beside the copy it replaces until that one drains; both
 * have the same meter ids, so the replaced copy leaves the meters in place when it goes.
 */
@Component
public class ScoringMetrics implements ModelEvents, ScoringRecorder {

    private final MeterRegistry registry;
    private final ScoreHistogram taskScores = ModelMeters.taskScoreHistogram();
    private final Map<LoadedModel, ModelMeters> metersByModel = new ConcurrentHashMap<>();
    private final Map<LoadedModel, Gauge> deviceByModel = new ConcurrentHashMap<>();
    private final DeltaMetrics deltaMetrics;

    public ScoringMetrics(MeterRegistry registry, PrometheusRegistry prometheusRegistry, DeltaMetrics deltaMetrics) {
        this.registry = registry;
        this.deltaMetrics = deltaMetrics;
        prometheusRegistry.register(taskScores);
        Gauge.builder("stem.onnx.sessions", OnnxModel::openSessions)
                .description("ONNX Runtime sessions open: one per serving or draining version; more is a leak")
                .register(registry);
    }

    /** The meters of a model that is loaded; a request holds a lease on it, so it is not closed yet. */
    public ModelMeters of(LoadedModel model) {
        return metersByModel.get(model);
    }

    /** The request's size, scores and feature issues, on the meters of the version that scored it. */
    @Override
    public void scored(ScoredExchange exchange) {
        of(exchange.model()).recordScored(exchange.scored().results(), exchange.scored().featureIssues());
    }

    @Override
    public void published(String directory, LoadedModel model) {
        String name = model.manifest().model().name();
        String version = model.manifest().model().version();
        metersByModel.put(model, new ModelMeters(registry, taskScores, name, version, model.manifest().tasks()));
        DeviceChoice device = model.network().deviceChoice();
        deviceByModel.put(model, Gauge.builder("stem.runtime.device.info", () -> 1)
                .description("How a serving model version runs: the device (and why not CUDA when it is not) and the"
                        + " dense network's precision (fp32, int8)")
                .tag("model", name).tag("version", version)
                .tag("device", device.device().name())
                // The code, not the full reason: that is an ONNX Runtime message of any length (logs, /v1/models).
                .tag("reason", device.cudaUnavailableCode().label())
                .tag("precision", model.manifest().precision())
                .register(registry));
        deltaMetrics.bind(model);
        loads(directory, "loaded").increment();
    }

    @Override
    public void rejected(String directory, RuntimeException reason) {
        loads(directory, "rejected").increment();
    }

    @Override
    public void retired(LoadedModel model) {
        Gauge device = deviceByModel.remove(model);
        // The registry hands out one gauge per id: a copy of the same version on the same device holds this one too.
        if (device != null && !deviceByModel.containsValue(device)) {
            registry.remove(device);
        }
    }

    @Override
    public void closed(LoadedModel model) {
        ModelMeters meters = metersByModel.remove(model);
        if (meters != null && metersByModel.values().stream().noneMatch(meters::sameVersion)) {
            meters.remove();
        }
    }

    private Counter loads(String directory, String outcome) {
        return Counter.builder("stem.model.loads")
                .description("Bundles loaded from the repository (outcome loaded) or rejected by checks or warm-up")
                .tag("directory", directory).tag("outcome", outcome)
                .register(registry);
    }
}
