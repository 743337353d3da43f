package dev.stemnet.service.config;

import dev.stemnet.service.bundle.BundleLoader;
import dev.stemnet.service.embedding.EmbeddingStoreFactory;
import dev.stemnet.service.inference.DeviceSelector;
import dev.stemnet.service.inference.GpuProbe;
import dev.stemnet.service.model.ModelLoader;
import dev.stemnet.service.model.ModelRegistry;
import jakarta.validation.Validator;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * Loads the model while the application starts, so a bad bundle or an unusable device stops the start with
 * the reason instead of failing the first request.
 */
@Configuration(proxyBeanMethods = false)
class ModelConfiguration {

    @Bean
    ModelRegistry modelRegistry(StemProperties properties, Validator validator, EmbeddingStoreFactory embeddingStores) {
        ModelLoader loader = new ModelLoader(
                new BundleLoader(validator),
                properties.runtime(),
                embeddingStores,
                new DeviceSelector(GpuProbe.nvidiaDriver()));
        return new ModelRegistry(loader.load(properties.bundle().dir()));
    }
}
