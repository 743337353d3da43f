package dev.stemnet.service.inference;

import java.util.Locale;

/**
 * Why CUDA is not used, as a short code. A metric label takes this and not the full reason, which can be a
 * long ONNX Runtime message that differs between machines and would make a new series for each.
 */
public enum CudaUnavailableCode {
    /** CUDA is used. */
    NONE,
    /** {@code stem.runtime.device=cpu}. */
    CONFIGURED,
    /** The GPU probe found no NVIDIA driver. */
    NO_DRIVER,
    /** ONNX Runtime refused the CUDA execution provider (missing or mismatched CUDA libraries). */
    CUDA_PROVIDER_FAILED;

    /** The metric label: {@code none}, {@code configured}, {@code no_driver}, {@code cuda_provider_failed}. */
    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }
}
