package dev.stemnet.service.experiment;

import dev.stemnet.service.model.ModelRegistry;
import io.micrometer.core.instrument.MeterRegistry;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

@Configuration(proxyBeanMethods = false)
class ExperimentConfiguration {

    @Bean
    Experiments experimentAssignment(ExperimentProperties properties, ModelRegistry registry, ExperimentMetrics metrics) {
        return new Experiments(properties.config(), properties.forceCallers(), registry::servingVersions, metrics);
    }

    /** Closed after the web server has finished its requests, so that their records are written too. */
    @Bean
    @ConditionalOnProperty("stem.experiments.exposure-log.dir")
    ExposureLog exposureLog(ExperimentProperties properties, MeterRegistry registry) {
        ExperimentProperties.ExposureLogSettings settings = properties.exposureLog();
        ExposureLog exposureLog = new ExposureLog(settings.dir(), settings.maxFileSize().toBytes(), settings.maxFiles(),
                settings.queueCapacity(), settings.flushInterval(), System::nanoTime, registry);
        exposureLog.start();
        return exposureLog;
    }
}
