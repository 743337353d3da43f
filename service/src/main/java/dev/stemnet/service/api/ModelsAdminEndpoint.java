package dev.stemnet.service.api;

import dev.stemnet.service.embedding.EmbeddingStoreStatus;
import dev.stemnet.service.model.LoadAttempt;
import dev.stemnet.service.model.ModelRegistry;
import dev.stemnet.service.model.ModelRepository;
import dev.stemnet.service.model.ReloadReport;
import dev.stemnet.service.model.ServingModel;
import java.util.List;
import java.util.stream.Stream;
import org.springframework.boot.actuate.endpoint.annotation.Endpoint;
import org.springframework.boot.actuate.endpoint.annotation.ReadOperation;
import org.springframework.boot.actuate.endpoint.annotation.WriteOperation;
import org.springframework.stereotype.Component;

/**
 * {@code /actuator/models} on the management port, behind the admin token: the embedding store's status, the
 * state of every version and the last load attempt per repository directory (GET), and a scan of the repository
 * (POST).
 */
@Component
@Endpoint(id = "models")
class ModelsAdminEndpoint {

    record Version(String name, String version, ServingModel.State state, int inFlight, String directory) {}

    record Status(String defaultModel, EmbeddingStoreStatus embeddingStore, List<Version> versions,
            List<LoadAttempt> lastAttempts) {}

    private final ModelRegistry registry;
    private final ModelRepository repository;
    private final EmbeddingStoreStatus.Source embeddingStore;

    ModelsAdminEndpoint(ModelRegistry registry, ModelRepository repository, EmbeddingStoreStatus.Source embeddingStore) {
        this.registry = registry;
        this.repository = repository;
        this.embeddingStore = embeddingStore;
    }

    @ReadOperation
    Status status() {
        List<Version> versions = Stream.concat(registry.serving().stream(), registry.draining().stream())
                .map(m -> new Version(m.name(), m.version(), m.state(), m.inFlight(),
                        m.model().bundle().directory().toString()))
                .toList();
        return new Status(registry.defaultName(), embeddingStore.current(), versions, repository.lastAttempts());
    }

    /** Loads new and changed bundles; returns when they serve or were rejected. */
    @WriteOperation
    ReloadReport reload() {
        return repository.reload();
    }
}
