package dev.stemnet.service.inference;

/** What {@code stem.runtime.device} asks for. */
public enum DeviceMode {
    /** CUDA when a GPU is there and the CUDA execution provider starts, otherwise CPU. */
    AUTO,
    /** CUDA or refuse to start. */
    CUDA,
    /** CPU even when a GPU is there. */
    CPU
}
