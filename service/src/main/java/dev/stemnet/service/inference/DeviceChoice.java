package dev.stemnet.service.inference;

/**
 * The device in use, and why CUDA is not used when it is not.
 *
 * @param cudaUnavailableReason {@code null} when {@code device} is CUDA
 */
public record DeviceChoice(ExecutionDevice device, String cudaUnavailableReason) {

    static DeviceChoice cuda() {
        return new DeviceChoice(ExecutionDevice.CUDA, null);
    }

    static DeviceChoice cpu(String cudaUnavailableReason) {
        return new DeviceChoice(ExecutionDevice.CPU, cudaUnavailableReason);
    }

    @Override
    public String toString() {
        return device == ExecutionDevice.CUDA ? "CUDA" : "CPU (CUDA not used: " + cudaUnavailableReason + ")";
    }
}
