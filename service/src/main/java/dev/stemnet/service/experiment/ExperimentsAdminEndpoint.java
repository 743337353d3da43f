package dev.stemnet.service.experiment;

import java.util.List;
import java.util.Map;
import org.springframework.boot.actuate.endpoint.annotation.Endpoint;
import org.springframework.boot.actuate.endpoint.annotation.ReadOperation;
import org.springframework.boot.actuate.endpoint.annotation.WriteOperation;
import org.springframework.boot.actuate.endpoint.web.WebEndpointResponse;
import org.springframework.stereotype.Component;

/**
 * {@code /actuator/experiments} on the management port, behind the admin token: the active configuration
 * (GET) and a reload of the file (POST; 200 when loaded or unchanged, 422 with the reason when refused, 404
 * when no file is configured).
 */
@Component
@Endpoint(id = "experiments")
class ExperimentsAdminEndpoint {

    record Status(String file, ExperimentConfig active, List<String> unservedArms, Experiments.ReloadResult lastReload) {}

    private final Experiments experiments;

    ExperimentsAdminEndpoint(Experiments experiments) {
        this.experiments = experiments;
    }

    @ReadOperation
    Status status() {
        return new Status(experiments.file().map(Object::toString).orElse(null), experiments.active().orElse(null),
                experiments.unservedArms(), experiments.lastReload().orElse(null));
    }

    @WriteOperation
    WebEndpointResponse<Object> reload() {
        if (experiments.file().isEmpty()) {
            return new WebEndpointResponse<>(Map.of("error", "stem.experiments.config is not set"),
                    WebEndpointResponse.STATUS_NOT_FOUND);
        }
        Experiments.ReloadResult result = experiments.reload();
        return new WebEndpointResponse<>(result, result.outcome() == Experiments.Outcome.REJECTED ? 422 : 200);
    }
}
