package dev.stemnet.service.inference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.onnxruntime.OrtException;
import dev.stemnet.service.inference.DeviceSelector.CudaEnabler;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class DeviceSelectorTest {

    private static final GpuProbe NO_GPU = () -> Optional.of("no NVIDIA driver found: /proc/driver/nvidia/version missing");
    private static final GpuProbe GPU = Optional::empty;

    private int cudaAttempts;
    private final CudaEnabler cudaWorks = () -> cudaAttempts++;
    private final CudaEnabler cudaFails = () -> {
        cudaAttempts++;
        throw new OrtException("libcudart.so.12: cannot open shared object file");
    };

    @Test
    void autoWithoutGpuFallsBackToCpuWithoutTouchingCuda() {
        DeviceChoice choice = new DeviceSelector(NO_GPU).select(DeviceMode.AUTO, cudaWorks);

        assertThat(choice.device()).isEqualTo(ExecutionDevice.CPU);
        assertThat(choice.cudaUnavailableCode()).isEqualTo(CudaUnavailableCode.NO_DRIVER);
        assertThat(choice.cudaUnavailableReason()).contains("/proc/driver/nvidia/version missing");
        assertThat(cudaAttempts).isZero();
    }

    @Test
    void autoWithGpuUsesCuda() {
        DeviceChoice choice = new DeviceSelector(GPU).select(DeviceMode.AUTO, cudaWorks);

        assertThat(choice.device()).isEqualTo(ExecutionDevice.CUDA);
        assertThat(choice.cudaUnavailableCode()).isEqualTo(CudaUnavailableCode.NONE);
        assertThat(choice.cudaUnavailableReason()).isNull();
        assertThat(cudaAttempts).isEqualTo(1);
    }

    @Test
    void autoFallsBackToCpuWhenTheCudaProviderFails() {
        DeviceChoice choice = new DeviceSelector(GPU).select(DeviceMode.AUTO, cudaFails);

        assertThat(choice.device()).isEqualTo(ExecutionDevice.CPU);
        assertThat(choice.cudaUnavailableCode()).isEqualTo(CudaUnavailableCode.CUDA_PROVIDER_FAILED);
        assertThat(choice.cudaUnavailableCode().label()).isEqualTo("cuda_provider_failed");
        assertThat(choice.cudaUnavailableReason()).contains("libcudart.so.12");
    }

    @Test
    void cpuIsUsedWhenConfiguredEvenWithAGpu() {
        DeviceChoice choice = new DeviceSelector(GPU).select(DeviceMode.CPU, cudaWorks);

        assertThat(choice.device()).isEqualTo(ExecutionDevice.CPU);
        assertThat(choice.cudaUnavailableCode()).isEqualTo(CudaUnavailableCode.CONFIGURED);
        assertThat(choice.cudaUnavailableReason()).contains("configured");
        assertThat(cudaAttempts).isZero();
    }

    @Test
    void cudaWithoutGpuRefusesToStartAndSaysWhy() {
        assertThatThrownBy(() -> new DeviceSelector(NO_GPU).select(DeviceMode.CUDA, cudaWorks))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("stem.runtime.device=cuda")
                .hasMessageContaining("/proc/driver/nvidia/version missing");
        assertThat(cudaAttempts).isZero();
    }

    @Test
    void cudaRefusesToStartWhenTheCudaProviderFails() {
        assertThatThrownBy(() -> new DeviceSelector(GPU).select(DeviceMode.CUDA, cudaFails))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("libcudart.so.12");
    }
}
