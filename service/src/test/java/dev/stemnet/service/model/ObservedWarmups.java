package dev.stemnet.service.model;

import dev.stemnet.service.ServiceOverHttp;
import dev.stemnet.service.api.ServingWarmup;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.springframework.boot.test.context.TestConfiguration;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Primary;
import org.springframework.core.env.Environment;
import org.springframework.test.web.servlet.client.RestTestClient;

/**
 * The service's own warm-up, watched: for every version it warms, what the warm-up reported and what the service
 * said the moment its last request was scored, still on the loading thread. {@code @Import} {@link Wiring} into a
 * service test.
 */
public final class ObservedWarmups implements ModelWarmup {

    @TestConfiguration(proxyBeanMethods = false)
    public static class Wiring {
        /** Primary, so the model loader takes it over the service's warm-up, which it runs. */
        @Bean
        @Primary
        ObservedWarmups observedWarmups(ServingWarmup warmup, ModelRegistry registry, Environment environment) {
            return new ObservedWarmups(warmup, registry, environment);
        }
    }

    /**
     * @param ready          whether readiness answered 200 over HTTP once the warm-up was done
     * @param servingVersion the version then serving the warmed model's name; {@code null} for none
     */
    public record Observation(String version, WarmupReport report, boolean ready, String servingVersion) {}

    private final ServingWarmup warmup;
    private final ModelRegistry registry;
    private final Environment environment;
    private final List<Observation> observations = new CopyOnWriteArrayList<>();

    private ObservedWarmups(ServingWarmup warmup, ModelRegistry registry, Environment environment) {
        this.warmup = warmup;
        this.registry = registry;
        this.environment = environment;
    }

    @Override
    public WarmupReport warmUp(LoadedModel model) {
        WarmupReport report = warmup.warmUp(model);
        // Set once the management server runs; the startup scan may be earlier, and readiness is not up then.
        String port = environment.getProperty("local.management.port");
        boolean ready = port != null
                && ServiceOverHttp.isReady(RestTestClient.bindToServer().baseUrl("http://localhost:" + port).build());
        String name = model.manifest().model().name();
        observations.add(new Observation(model.manifest().model().version(), report, ready,
                registry.serving(name).map(ServingModel::version).orElse(null)));
        return report;
    }

    /** The observation of the warm-up of {@code version}; fails when there was none. */
    public Observation of(String version) {
        return observations.stream().filter(o -> o.version().equals(version)).findFirst()
                .orElseThrow(() -> new AssertionError("no warm-up of version " + version + " in " + observations));
    }
}
