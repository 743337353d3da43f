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
        Map<String, Object> metrics,
        Map<String, Object> quantization) {

    public record Field(String name, Side side, long vocabSize) {}

    public record Table(String name, long rows, int dim, List<String> fields) {}

    /** @param cudaUnavailableReason null when the device is CUDA */
    public record Runtime(ExecutionDevice device, String cudaUnavailableReason, int intraOpThreads, OptLevel optimizationLevel) {}

    /** No directory: file system paths are for the admin endpoint ({@code /actuator/models}) only. */
    public record Load(Instant loadedAt, long loadMillis) {}

    static ModelDescription of(LoadedModel model, ServingModel.State state, RuntimeSettings settings) {
        Manifest manifest = model.manifest();
        DeviceChoice device = model.network().deviceChoice();
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
                manifest.fields().stream().map(ModelDescription::field).toList(),
                manifest.tables().stream().map(ModelDescription::table).toList(),
                new Runtime(device.device(), device.cudaUnavailableReason(),
                        settings.intraOpThreads(), settings.optimizationLevel()),
                new Load(model.loadedAt(), model.loadDuration().toMillis()),
                manifest.metrics(),
                manifest.quantization());
    }

    private static Field field(FieldSpec field) {
        return new Field(field.name(), field.side(), field.vocabSize());
    }

    private static Table table(TableSpec table) {
        return new Table(table.name(), table.rows(), table.dim(),
                table.fields().stream().map(TableField::name).toList());
    }
}
