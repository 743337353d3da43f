package dev.stemnet.service.bundle;

import com.fasterxml.jackson.annotation.JsonProperty;
import jakarta.validation.Valid;
import jakarta.validation.constraints.DecimalMax;
import jakarta.validation.constraints.NotBlank;
import jakarta.validation.constraints.NotEmpty;
import jakarta.validation.constraints.NotNull;
import jakarta.validation.constraints.Pattern;
import jakarta.validation.constraints.Positive;
import jakarta.validation.constraints.PositiveOrZero;
import jakarta.validation.constraints.Size;
import java.util.List;
import java.util.Map;

/**
 * {@code manifest.json} as described in {@code docs/bundle-format.md}. The constraints catch
 * missing keys; {@link ManifestConsistency} checks how the parts refer to each other.
 */
public record Manifest(
        @NotNull Integer formatVersion,
        @NotNull @Valid ModelInfo model,
        @NotEmpty List<@NotBlank String> tasks,
        @Positive int embeddingDim,
        Integer minCount,
        @NotBlank String userIdField,
        @NotBlank String itemIdField,
        String missingValue,
        @NotEmpty List<@NotNull @Valid FieldSpec> fields,
        @NotEmpty List<@NotNull @Valid TableSpec> tables,
        @NotNull @Valid OnnxSpec onnx,
        String parityFixtures,
        @Positive
        @DecimalMax(value = "0.001", message = "must be at most 0.001: a looser tolerance would let a wrongly"
                + " exported graph pass its warm-up")
        Double parityTolerance,
        @NotEmpty Map<String, @NotBlank String> files,
        Map<String, Object> metrics,
        Map<String, Object> quantization) {

    public static final int SUPPORTED_FORMAT_VERSION = 1;
    /** The parity tolerance of bundles that name none: every FP32 bundle written before int8 bundles existed. */
    public static final double DEFAULT_PARITY_TOLERANCE = 1e-5;
    public static final String FP32 = "fp32";
    public static final String INT8 = "int8";

    /** How far a served score may be from the parity fixtures' before the bundle is refused. */
    public double parityToleranceOrDefault() {
        return parityTolerance == null ? DEFAULT_PARITY_TOLERANCE : parityTolerance;
    }

    /** The dense network's numeric precision: {@value #FP32} or {@value #INT8} (dynamically quantized). */
    public String precision() {
        return onnx.precision() == null ? FP32 : onnx.precision();
    }

    public record ModelInfo(
            @NotBlank String name,
            @NotBlank String version,
            @NotBlank String architecture,
            Map<String, Object> hyperparameters) {}

    public enum Side {
        @JsonProperty("user") USER,
        @JsonProperty("item") ITEM,
        @JsonProperty("context") CONTEXT
    }

    public record FieldSpec(
            @NotBlank String name,
            @NotNull Side side,
            @NotBlank String vocabulary,
            @Positive long vocabSize) {}

    public record TableSpec(
            @NotBlank String name,
            @NotBlank String file,
            @Positive long rows,
            @Positive int dim,
            @NotEmpty List<@NotNull @Valid TableField> fields) {

        public long sizeInBytes() {
            return rows * dim * Float.BYTES;
        }
    }

    public record TableField(@NotBlank String name, @PositiveOrZero long rowOffset) {}

    public record OnnxSpec(
            @NotBlank String file,
            Integer opset,
            @NotEmpty List<@NotNull @Valid TensorSpec> inputs,
            @Size(min = 1, max = 1) List<@NotNull @Valid TensorSpec> outputs,
            @Pattern(regexp = FP32 + "|" + INT8, message = "must be " + FP32 + " or " + INT8) String precision) {

        public TensorSpec output() {
            return outputs.get(0);
        }
    }

    /** {@code table} is set for inputs only; {@code shape} mixes the axis name "batch" and sizes. */
    public record TensorSpec(
            @NotBlank String name,
            String table,
            @NotBlank String dtype,
            @NotNull List<Object> shape) {}
}
