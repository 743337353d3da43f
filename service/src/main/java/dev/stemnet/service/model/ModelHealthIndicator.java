package dev.stemnet.service.model;

import dev.stemnet.service.bundle.Manifest;
import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.HealthIndicator;
import org.springframework.stereotype.Component;

/**
 * Reported as {@code model} under {@code /actuator/health} and in the readiness group. A bundle that does not
 * load stops the service from starting at all, so today this is UP whenever it can be asked.
 */
@Component("model")
public class ModelHealthIndicator implements HealthIndicator {

    private final ModelRegistry registry;

    public ModelHealthIndicator(ModelRegistry registry) {
        this.registry = registry;
    }

    @Override
    public Health health() {
        LoadedModel model = registry.current();
        Manifest.ModelInfo info = model.manifest().model();
        return Health.up()
                .withDetail("name", info.name())
                .withDetail("version", info.version())
                .withDetail("device", model.network().deviceChoice().device())
                .build();
    }
}
