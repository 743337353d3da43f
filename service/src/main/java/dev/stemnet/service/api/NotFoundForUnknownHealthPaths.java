package dev.stemnet.service.api;

import java.time.Duration;
import org.springframework.boot.actuate.endpoint.ApiVersion;
import org.springframework.boot.actuate.endpoint.SecurityContext;
import org.springframework.boot.actuate.endpoint.web.WebEndpointResponse;
import org.springframework.boot.actuate.endpoint.web.WebServerNamespace;
import org.springframework.boot.health.actuate.endpoint.HealthDescriptor;
import org.springframework.boot.health.actuate.endpoint.HealthEndpointGroups;
import org.springframework.boot.health.actuate.endpoint.HealthEndpointWebExtension;
import org.springframework.boot.health.contributor.HealthContributor;
import org.springframework.boot.health.contributor.HealthContributors;
import org.springframework.boot.health.registry.HealthContributorRegistry;
import org.springframework.boot.health.registry.ReactiveHealthContributorRegistry;

/**
 * The health endpoint, answering 404 for a path that walks through a contributor that does not exist
 * ({@code /actuator/health/foo/bar}, or {@code /actuator/health/../models} sent as is: Spring MVC maps the raw
 * path). Spring Boot 4.1's own extension fails such a path on an assertion, {@code 'contributor' must not be
 * null} in {@code HealthEndpointSupport.getContributor}: a 500 and a stack trace in the log for every call
 * (3.x answered 404). Every other path it answers itself.
 */
class NotFoundForUnknownHealthPaths extends HealthEndpointWebExtension {

    private final HealthContributors root;
    private final HealthEndpointGroups groups;

    NotFoundForUnknownHealthPaths(HealthContributorRegistry registry, ReactiveHealthContributorRegistry fallbackRegistry,
            HealthEndpointGroups groups, Duration slowContributorLoggingThreshold) {
        super(registry, fallbackRegistry, groups, slowContributorLoggingThreshold);
        // The contributors Spring Boot looks a path up in, as it combines them.
        this.root = fallbackRegistry == null ? registry
                : HealthContributors.of(registry, fallbackRegistry.asHealthContributors());
        this.groups = groups;
    }

    @Override
    public WebEndpointResponse<HealthDescriptor> health(ApiVersion apiVersion, WebServerNamespace serverNamespace,
            SecurityContext securityContext, boolean showAll, String... path) {
        if (passesAMissingContributor(path)) {
            return new WebEndpointResponse<>(WebEndpointResponse.STATUS_NOT_FOUND);
        }
        return super.health(apiVersion, serverNamespace, securityContext, showAll, path);
    }

    /** Whether a segment before the last names nothing: the case Spring Boot trips over. */
    private boolean passesAMissingContributor(String... path) {
        int first = path.length > 0 && groups.get(path[0]) != null ? 1 : 0;
        HealthContributors parent = root;
        for (int i = first; i < path.length - 1; i++) {
            HealthContributor child = parent.getContributor(path[i]);
            if (child == null) {
                return true;
            }
            if (!(child instanceof HealthContributors composite)) {
                return false; // a leaf with more path below it: Spring Boot answers 404 for that itself
            }
            parent = composite;
        }
        return false;
    }
}
