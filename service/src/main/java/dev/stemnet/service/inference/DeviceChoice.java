package dev.stemnet.service.inference;

/**
 * The device in use, and why CUDA is not used when it is not.
 *
 * @param cudaUnavailableCode   {@link CudaUnavailableCode#NONE} when {@code device} is CUDA
 * @param cudaUnavailableReason {@code null} when {@code device} is CUDA, otherwise the full reason
 */
public record DeviceChoice(
        ExecutionDevice device, CudaUnavailableCode cudaUnavailableCode, String cudaUnavailableReason) {

    static DeviceChoice cuda() {
        return new DeviceChoice(ExecutionDevice.CUDA, CudaUnavailableCode.NONE, null);
    }

    static DeviceChoice cpu(CudaUnavailableCode code, String cudaUnavailableReason) {
        return new DeviceChoice(ExecutionDevice.CPU, code, cudaUnavailableReason);
    }

    @Override
    public String toString() {
        return device == ExecutionDevice.CUDA ? "CUDA" : "CPU (CUDA not used: " + cudaUnavailableReason + ")";
    }
}
