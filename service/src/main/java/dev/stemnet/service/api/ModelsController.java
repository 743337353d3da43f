package dev.stemnet.service.api;

import dev.stemnet.service.config.StemProperties;
import dev.stemnet.service.model.ModelRegistry;
import java.util.List;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RestController;

@RestController
class ModelsController {

    /** A list although one model is served today, so that serving several later keeps the shape. */
    record ModelsResponse(List<ModelDescription> models) {}

    private final ModelRegistry registry;
    private final StemProperties properties;

    ModelsController(ModelRegistry registry, StemProperties properties) {
        this.registry = registry;
        this.properties = properties;
    }

    @GetMapping("/v1/models")
    ModelsResponse models() {
        return new ModelsResponse(List.of(ModelDescription.of(registry.current(), properties.runtime())));
    }
}
