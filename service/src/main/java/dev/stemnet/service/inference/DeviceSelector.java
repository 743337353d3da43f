package dev.stemnet.service.inference;

import ai.onnxruntime.OrtException;
import java.util.Optional;

/**
 * Decides between CUDA and CPU. Kept apart from ONNX Runtime so the decision can be tested on any machine:
 * the GPU probe and the step that enables CUDA are passed in.
 */
public final class DeviceSelector {

    /** Adds the CUDA execution provider to the session being built; fails without usable CUDA libraries. */
    @FunctionalInterface
    public interface CudaEnabler {
        void enableCuda() throws OrtException;
    }

    private final GpuProbe gpuProbe;

    public DeviceSelector(GpuProbe gpuProbe) {
        this.gpuProbe = gpuProbe;
    }

    /** @throws IllegalStateException in mode CUDA when CUDA cannot be used, with the reason */
    public DeviceChoice select(DeviceMode mode, CudaEnabler cudaEnabler) {
        if (mode == DeviceMode.CPU) {
            return DeviceChoice.cpu(CudaUnavailableCode.CONFIGURED, "configured: stem.runtime.device=cpu");
        }
        Optional<DeviceChoice> cpu = gpuProbe.whyNoGpu()
                .map(reason -> DeviceChoice.cpu(CudaUnavailableCode.NO_DRIVER, reason))
                .or(() -> tryEnable(cudaEnabler));
        if (cpu.isEmpty()) {
            return DeviceChoice.cuda();
        }
        if (mode == DeviceMode.CUDA) {
            throw new IllegalStateException("stem.runtime.device=cuda, but CUDA cannot be used: "
                    + cpu.get().cudaUnavailableReason());
        }
        return cpu.get();
    }

    /** @return empty when CUDA was enabled, otherwise the CPU choice saying why not */
    private static Optional<DeviceChoice> tryEnable(CudaEnabler cudaEnabler) {
        try {
            cudaEnabler.enableCuda();
            return Optional.empty();
        } catch (OrtException e) {
            return Optional.of(DeviceChoice.cpu(CudaUnavailableCode.CUDA_PROVIDER_FAILED,
                    "CUDA execution provider failed to start: " + e.getMessage()));
        }
    }
}
