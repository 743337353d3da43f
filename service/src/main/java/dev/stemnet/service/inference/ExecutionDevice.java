package dev.stemnet.service.inference;

/** Where ONNX Runtime actually runs the model. */
public enum ExecutionDevice {
    CUDA,
    CPU
}
