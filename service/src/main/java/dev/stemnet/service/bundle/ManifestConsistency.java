package dev.stemnet.service.bundle;

import dev.stemnet.service.bundle.Manifest.FieldSpec;
import dev.stemnet.service.bundle.Manifest.Side;
import dev.stemnet.service.bundle.Manifest.TableField;
import dev.stemnet.service.bundle.Manifest.TableSpec;
import dev.stemnet.service.bundle.Manifest.TensorSpec;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;

/** Checks that the parts of a manifest agree with each other: names resolve, shapes and row ranges fit. */
final class ManifestConsistency {

    private static final String BATCH_AXIS = "batch";
    private static final String FLOAT32 = "float32";

    private ManifestConsistency() {}

    static void check(Manifest manifest) {
        requireUnique("tasks", manifest.tasks());
        requireUnique("fields[].name", manifest.fields().stream().map(FieldSpec::name).toList());
        requireUnique("tables[].name", manifest.tables().stream().map(TableSpec::name).toList());
        requireUnique("onnx.inputs[].table", manifest.onnx().inputs().stream().map(TensorSpec::table).toList());

        Map<String, FieldSpec> fields = manifest.fields().stream()
                .collect(Collectors.toMap(FieldSpec::name, Function.identity()));
        checkIdField("userIdField", manifest.userIdField(), Side.USER, fields);
        checkIdField("itemIdField", manifest.itemIdField(), Side.ITEM, fields);
        for (int t = 0; t < manifest.tables().size(); t++) {
            checkTable("tables[" + t + "]", manifest.tables().get(t), fields);
        }
        checkInputs(manifest);
        checkOutput(manifest);
        checkEveryFileHasChecksum(manifest);
    }

    private static void requireUnique(String key, List<String> names) {
        var seen = new HashSet<String>();
        for (String name : names) {
            if (!seen.add(name)) {
                throw invalid(key + " lists '" + name + "' twice");
            }
        }
    }

    private static void checkIdField(String key, String name, Side side, Map<String, FieldSpec> fields) {
        FieldSpec field = fields.get(name);
        if (field == null || field.side() != side) {
            throw invalid(key + " '" + name + "' is not a field with side " + side.name().toLowerCase());
        }
    }

    private static void checkTable(String key, TableSpec table, Map<String, FieldSpec> fields) {
        for (int f = 0; f < table.fields().size(); f++) {
            TableField tableField = table.fields().get(f);
            String fieldKey = key + ".fields[" + f + "]";
            FieldSpec field = fields.get(tableField.name());
            if (field == null) {
                throw invalid(fieldKey + " names unknown field '" + tableField.name() + "'");
            }
            if (tableField.rowOffset() + field.vocabSize() > table.rows()) {
                throw invalid(fieldKey + " ('" + field.name() + "', rows " + tableField.rowOffset() + ".."
                        + (tableField.rowOffset() + field.vocabSize() - 1) + ") lies outside table '"
                        + table.name() + "' with " + table.rows() + " rows");
            }
        }
    }

    private static void checkInputs(Manifest manifest) {
        Map<String, TensorSpec> inputsByTable = manifest.onnx().inputs().stream()
                .collect(Collectors.toMap(TensorSpec::table, Function.identity()));
        for (TableSpec table : manifest.tables()) {
            TensorSpec input = inputsByTable.remove(table.name());
            if (input == null) {
                throw invalid("onnx.inputs has no input for table '" + table.name() + "'");
            }
            checkTensor("onnx.inputs '" + input.name() + "'", input,
                    List.of(BATCH_AXIS, table.fields().size(), table.dim()));
        }
        if (!inputsByTable.isEmpty()) {
            throw invalid("onnx.inputs refers to unknown tables " + inputsByTable.keySet());
        }
    }

    private static void checkOutput(Manifest manifest) {
        TensorSpec output = manifest.onnx().output();
        checkTensor("onnx.outputs '" + output.name() + "'", output, List.of(BATCH_AXIS, manifest.tasks().size()));
    }

    private static void checkTensor(String key, TensorSpec tensor, List<Object> expectedShape) {
        if (!FLOAT32.equals(tensor.dtype())) {
            throw invalid(key + " has dtype " + tensor.dtype() + ", expected " + FLOAT32);
        }
        if (!expectedShape.equals(tensor.shape())) {
            throw invalid(key + " has shape " + tensor.shape() + ", expected " + expectedShape);
        }
    }

    /** A file the manifest refers to but does not list under {@code files} would go unverified. */
    private static void checkEveryFileHasChecksum(Manifest manifest) {
        List<String> referenced = new ArrayList<>();
        referenced.add(manifest.onnx().file());
        manifest.tables().forEach(table -> referenced.add(table.file()));
        manifest.fields().forEach(field -> referenced.add(field.vocabulary()));
        referenced.add(manifest.parityFixtures());
        for (String file : referenced) {
            if (file != null && !manifest.files().containsKey(file)) {
                throw invalid("files has no sha256 for '" + file + "'");
            }
        }
    }

    private static InvalidBundleException invalid(String message) {
        return new InvalidBundleException(ManifestReader.MANIFEST_FILE + ": " + message);
    }
}
