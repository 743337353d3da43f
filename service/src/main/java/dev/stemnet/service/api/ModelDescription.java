package dev.stemnet.service.api;

import ai.onnxruntime.OrtSession.SessionOptions.OptLevel;
import dev.stemnet.service.bundle.Manifest;
import dev.stemnet.service.bundle.Manifest.FieldSpec;
import dev.stemnet.service.bundle.Manifest.Side;
import dev.stemnet.service.bundle.Manifest.TableField;
import dev.stemnet.service.bundle.Manifest.TableSpec;
import dev.stemnet.service.inference.DeviceChoice;
import dev.stemnet.service.inference.ExecutionDevice;
import dev.stemnet.service.inference.RuntimeSettings;
import dev.stemnet.service.model.LoadedModel;
import dev.stemnet.service.model.ServingModel;
import dev.stemnet.service.scoring.EmbeddingState;
import java.time.Instant;
import java.util.List;
import java.util.Map;

/** One model as {@code GET /v1/models} shows it. */
public record ModelDescription(
        String name,
        String version,
        ServingModel.State state,
        String architecture,
        String precision,
        double parityTolerance,
        Map<String, Object> hyperparameters,
        List<String> tasks,
        String userIdField,
        String itemIdField,
        List<Field> fields,
        List<Table> tables,
        Runtime runtime,
        Load load,
        Deltas deltas,
        Map<String, Object> metrics,
        Map<String, Object> quantization) {

    public record Field(String name, Side side, long vocabSize) {}

    public record Table(String name, long rows, int dim, List<String> fields) {}

    /**
     * @param cudaUnavailable why CUDA is not used, as a code ({@code configured}, {@code no_driver},
     *                        {@code cuda_provider_failed}); null when the device is CUDA. The full reason, an ONNX
     *                        Runtime message that can name library paths, is on the admin endpoint only.
     */
    public record Runtime(ExecutionDevice device, String cudaUnavailable, int intraOpThreads, OptLevel optimizationLevel) {}

    /** No directory: file system paths are for the admin endpoint ({@code /actuator/models}) only. */
    public record Load(Instant loadedAt, long loadMillis) {}

    /**
     * The deltas applied since the version loaded; no paths, no refusals (those are in {@code /actuator/models}).
     *
     * @param sequence  the newest applied, 0 for none
     * @param createdAt when the trainer wrote it; null for none
     * @param appliedAt when it was applied here; null for none
     */
    public record Deltas(long sequence, Instant createdAt, Instant appliedAt) {}

    static ModelDescription of(LoadedModel model, ServingModel.State state, RuntimeSettings settings) {
        Manifest manifest = model.manifest();
        DeviceChoice device = model.network().deviceChoice();
        // The sizes the model serves with now: a delta grows vocabularies and tables.
        EmbeddingState embeddings = model.scorer().embeddings();
        return new ModelDescription(
                manifest.model().name(),
                manifest.model().version(),
                state,
                manifest.model().architecture(),
                manifest.precision(),
                manifest.parityToleranceOrDefault(),
                manifest.model().hyperparameters(),
                manifest.tasks(),
                manifest.userIdField(),
                manifest.itemIdField(),
                manifest.fields().stream().map(field -> field(field, embeddings)).toList(),
                manifest.tables().stream().map(table -> table(table, embeddings)).toList(),
                new Runtime(device.device(),
                        device.device() == ExecutionDevice.CUDA ? null : device.cudaUnavailableCode().label(),
                        settings.intraOpThreads(), settings.optimizationLevel()),
                new Load(model.loadedAt(), model.loadDuration().toMillis()),
                new Deltas(embeddings.sequence(), embeddings.deltaCreatedAt(), embeddings.appliedAt()),
                manifest.metrics(),
                manifest.quantization());
    }

    private static Field field(FieldSpec field, EmbeddingState embeddings) {
        return new Field(field.name(), field.side(), embeddings.vocabulary(field.name()).size());
    }

    private static Table table(TableSpec table, EmbeddingState embeddings) {
        return new Table(table.name(), embeddings.rows(table.name()), table.dim(),
                table.fields().stream().map(TableField::name).toList());
    }
}
