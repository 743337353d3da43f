package dev.stemnet.service.embedding;

import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.HealthIndicator;
import org.springframework.stereotype.Component;

/**
 * Reported as {@code embeddingStore} under {@code /actuator/health} and in the readiness group, so that a service
 * waiting for its store says so: OUT_OF_SERVICE while the store has not answered since start. A store lost after
 * that stays UP (state RECONNECTING): every replica shares the outage, and taking them all out of the load
 * balancer would turn fast 503s, and the rows the caches still serve, into connection errors.
 */
@Component("embeddingStore")
class EmbeddingStoreHealthIndicator implements HealthIndicator {

    private final EmbeddingStoreStatus.Source store;

    EmbeddingStoreHealthIndicator(EmbeddingStoreStatus.Source store) {
        this.store = store;
    }

    @Override
    public Health health() {
        EmbeddingStoreStatus status = store.current();
        Health.Builder health = status.state() == EmbeddingStoreStatus.State.UNREACHABLE
                ? Health.outOfService()
                : Health.up();
        health.withDetail("store", status.store()).withDetail("state", status.state());
        if (status.reason() != null) {
            health.withDetail("reason", status.reason());
        }
        return health.build();
    }
}
