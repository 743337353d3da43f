package dev.stemnet.service.api;

import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.health.actuate.endpoint.HealthEndpointGroups;
import org.springframework.boot.health.autoconfigure.actuate.endpoint.HealthEndpointProperties;
import org.springframework.boot.health.registry.HealthContributorRegistry;
import org.springframework.boot.health.registry.ReactiveHealthContributorRegistry;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/** Takes the place of Spring Boot's health web extension, which backs off when one exists, with the same arguments. */
@Configuration(proxyBeanMethods = false)
class HealthEndpointConfiguration {

    @Bean
    NotFoundForUnknownHealthPaths healthEndpointWebExtension(HealthContributorRegistry registry,
            ObjectProvider<ReactiveHealthContributorRegistry> fallbackRegistry, HealthEndpointGroups groups,
            HealthEndpointProperties properties) {
        return new NotFoundForUnknownHealthPaths(registry, fallbackRegistry.getIfAvailable(), groups,
                properties.getLogging().getSlowIndicatorThreshold());
    }
}
