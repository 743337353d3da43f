package dev.stemnet.service.api;

import dev.stemnet.service.delta.DeltaAttempt;
import dev.stemnet.service.embedding.EmbeddingStoreStatus;
import dev.stemnet.service.model.LoadAttempt;
import dev.stemnet.service.model.LoadedModel;
import dev.stemnet.service.model.ModelRegistry;
import dev.stemnet.service.model.ModelRepository;
import dev.stemnet.service.model.ReloadReport;
import dev.stemnet.service.model.ServingModel;
import dev.stemnet.service.scoring.EmbeddingState;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.springframework.boot.actuate.endpoint.annotation.Endpoint;
import org.springframework.boot.actuate.endpoint.annotation.ReadOperation;
import org.springframework.boot.actuate.endpoint.annotation.WriteOperation;
import org.springframework.stereotype.Component;

/**
 * {@code /actuator/models} on the management port, behind the admin token: the embedding store's status, the
 * state of every version with its deltas (the applied sequence and the latest attempts) and the last load attempt
 * per repository directory (GET), and a scan of the repository, which also applies pending deltas (POST).
 */
@Component
@Endpoint(id = "models")
class ModelsAdminEndpoint {

    /** @param cudaUnavailableReason the full reason CUDA is not used (null on CUDA); the public API has its code */
    record Version(String name, String version, ServingModel.State state, int inFlight, String directory,
            String cudaUnavailableReason, Deltas deltas) {}

    /**
     * @param appliedSequence the newest delta applied, 0 for none
     * @param createdAt       when the trainer wrote it; null for none
     * @param appliedAt       when it was applied here; null for none
     * @param lastAttempts    the latest attempts, newest last: applied, refused (with reason and message), skipped
     */
    record Deltas(long appliedSequence, Instant createdAt, Instant appliedAt, Map<String, Long> vocabularySizes,
            List<DeltaAttempt> lastAttempts) {

        static Deltas of(LoadedModel model) {
            EmbeddingState state = model.scorer().embeddings();
            return new Deltas(state.sequence(), state.deltaCreatedAt(), state.appliedAt(), state.vocabularySizes(),
                    model.deltas().attempts());
        }
    }

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
                        m.model().bundle().directory().toString(),
                        m.model().network().deviceChoice().cudaUnavailableReason(), Deltas.of(m.model())))
                .toList();
        return new Status(registry.defaultName(), embeddingStore.current(), versions, repository.lastAttempts());
    }

    /** Loads new and changed bundles and applies pending deltas; returns when they serve or were rejected. */
    @WriteOperation
    ReloadReport reload() {
        return repository.reload();
    }
}
