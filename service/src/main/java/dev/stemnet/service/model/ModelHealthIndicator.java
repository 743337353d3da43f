package dev.stemnet.service.model;

import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.HealthIndicator;
import org.springframework.stereotype.Component;

/**
 * Reported as {@code model} under {@code /actuator/health} and in the readiness group: UP once the default
 * model has loaded and passed its warm-up, OUT_OF_SERVICE before (503, so no traffic is routed here yet).
 */
@Component("model")
public class ModelHealthIndicator implements HealthIndicator {

    private final ModelRegistry registry;

    public ModelHealthIndicator(ModelRegistry registry) {
        this.registry = registry;
    }

    @Override
    public Health health() {
        return registry.serving(registry.defaultName())
                .map(model -> Health.up()
                        .withDetail("name", model.name())
                        .withDetail("version", model.version())
                        .withDetail("device", model.model().network().deviceChoice().device())
                        .withDetail("precision", model.model().manifest().precision())
                        .build())
                .orElseGet(() -> Health.outOfService()
                        .withDetail("name", registry.defaultName())
                        .withDetail("reason", "not loaded and warmed up yet")
                        .build());
    }
}
