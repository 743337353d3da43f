package dev.stemnet.service.experiment;

import java.util.List;
import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.HealthIndicator;
import org.springframework.stereotype.Component;

/**
 * Reported as {@code experiments} in the readiness group: OUT_OF_SERVICE while a model an arm names does not
 * serve (models load in the background after start), so no traffic arrives that could only get 503s for one arm.
 */
@Component("experiments")
class ExperimentHealthIndicator implements HealthIndicator {

    private final Experiments experiments;

    ExperimentHealthIndicator(Experiments experiments) {
        this.experiments = experiments;
    }

    @Override
    public Health health() {
        List<String> unserved = experiments.unservedArms();
        Health.Builder health = unserved.isEmpty() ? Health.up() : Health.outOfService().withDetail("unserved", unserved);
        experiments.active().ifPresent(config -> health.withDetail("configVersion", config.version()));
        return health.build();
    }
}
