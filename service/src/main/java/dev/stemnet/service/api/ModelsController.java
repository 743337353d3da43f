package dev.stemnet.service.api;

import com.fasterxml.jackson.annotation.JsonProperty;
import dev.stemnet.service.config.StemProperties;
import dev.stemnet.service.model.ModelRegistry;
import dev.stemnet.service.model.ServingModel;
import java.util.List;
import java.util.stream.Stream;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RestController;

@RestController
class ModelsController {

    /** @param defaultModel the model a request that names none is scored with */
    record ModelsResponse(@JsonProperty("default") String defaultModel, List<ModelDescription> models) {}

    private final ModelRegistry registry;
    private final StemProperties properties;

    ModelsController(ModelRegistry registry, StemProperties properties) {
        this.registry = registry;
        this.properties = properties;
    }

    /** Serving models (state READY) and replaced versions still finishing requests (state DRAINING). */
    @GetMapping("/v1/models")
    ModelsResponse models() {
        List<ModelDescription> models = Stream.concat(registry.serving().stream(), registry.draining().stream())
                .map(this::describe)
                .toList();
        return new ModelsResponse(registry.defaultName(), models);
    }

    private ModelDescription describe(ServingModel model) {
        return ModelDescription.of(model.model(), model.state(), properties.runtime());
    }
}
