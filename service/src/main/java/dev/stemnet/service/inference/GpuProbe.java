package dev.stemnet.service.inference;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/** Tells whether an NVIDIA GPU is there before anyone pays for loading the CUDA libraries. */
@FunctionalInterface
public interface GpuProbe {

    /** @return empty when a GPU looks usable, otherwise why not */
    Optional<String> whyNoGpu();

    /** The NVIDIA kernel driver publishes this file when it is loaded. */
    static GpuProbe nvidiaDriver() {
        Path driverVersion = Path.of("/proc/driver/nvidia/version");
        return () -> Files.exists(driverVersion)
                ? Optional.empty()
                : Optional.of("no NVIDIA driver found: " + driverVersion + " missing");
    }
}
