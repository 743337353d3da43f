package dev.stemnet.service.inference;

import ai.onnxruntime.OrtSession.SessionOptions.OptLevel;
import jakarta.validation.constraints.Min;
import jakarta.validation.constraints.NotNull;

/**
 * {@code stem.runtime.*}: how ONNX Runtime runs the model.
 *
 * @param intraOpThreads threads one inference may use; requests already run in parallel, so keep it small
 */
public record RuntimeSettings(
        @NotNull DeviceMode device,
        @Min(1) int intraOpThreads,
        @NotNull OptLevel optimizationLevel) {}
