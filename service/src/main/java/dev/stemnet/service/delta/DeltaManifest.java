package dev.stemnet.service.delta;

import jakarta.validation.Valid;
import jakarta.validation.constraints.DecimalMax;
import jakarta.validation.constraints.NotBlank;
import jakarta.validation.constraints.NotEmpty;
import jakarta.validation.constraints.NotNull;
import jakarta.validation.constraints.Positive;
import jakarta.validation.constraints.PositiveOrZero;
import java.util.List;
import java.util.Map;

/**
 * {@code delta.json} as described in {@code docs/bundle-format.md}, "Deltas". The constraints catch missing keys;
 * {@link DeltaConsistency} checks the numbers against the serving state and against each other.
 */
public record DeltaManifest(
        @NotNull Integer formatVersion,
        @NotNull @Valid Base base,
        @Positive long sequence,
        @NotBlank String createdAt,
        String trainedOn,
        @NotNull List<@NotNull @Valid FieldGrowth> fields,
        @NotEmpty List<@NotNull @Valid TableChange> tables,
        @NotBlank String parityFixtures,
        @Positive
        @DecimalMax(value = "0.001", message = "must be at most 0.001: a looser tolerance would let wrong rows pass")
        Double parityTolerance,
        @NotEmpty Map<String, @NotBlank String> files) {

    public static final int SUPPORTED_FORMAT_VERSION = 1;
    public static final double DEFAULT_PARITY_TOLERANCE = 1e-5;

    public double parityToleranceOrDefault() {
        return parityTolerance == null ? DEFAULT_PARITY_TOLERANCE : parityTolerance;
    }

    /** The serving version the delta was trained from, and the graph it was trained against. */
    public record Base(@NotBlank String name, @NotBlank String version, @NotBlank String onnxSha256) {}

    /** A field that grows: the values of {@code vocabulary} get indices {@code vocabSizeBefore} and on. */
    public record FieldGrowth(
            @NotBlank String name,
            @Positive long vocabSizeBefore,
            @Positive long vocabSizeAfter,
            @NotBlank String vocabulary) {}

    /** One table of the base: the rows the delta writes ({@code rows}, {@code values}) and those it appends. */
    public record TableChange(
            @NotBlank String name,
            @Positive int dim,
            @Positive long rowsBefore,
            @Positive long rowsAfter,
            @NotBlank String rows,
            @NotBlank String values,
            @PositiveOrZero long count,
            @NotNull List<@NotNull @Valid Appended> appended) {}

    /** Rows {@code firstRow ..} of the table hold the values added to {@code field}, in index order. */
    public record Appended(@NotBlank String field, @PositiveOrZero long firstRow, @Positive long count) {}
}
