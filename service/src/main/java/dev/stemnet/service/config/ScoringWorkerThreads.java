package dev.stemnet.service.config;

import dev.stemnet.service.api.ArrivalTimeValve;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.MeterBinder;
import java.util.function.ToIntFunction;
import org.apache.coyote.AbstractProtocol;
import org.springframework.beans.factory.DisposableBean;
import org.springframework.boot.tomcat.servlet.TomcatServletWebServerFactory;
import org.springframework.boot.web.server.WebServerFactoryCustomizer;
import org.springframework.core.env.Environment;
import org.springframework.stereotype.Component;

/**
 * The public port's Tomcat, sized from {@code stem.scoring.*} so that no queue sits in front of the admission
 * decision (service/README.md, "Overload"): an admitted request holds a worker thread from arrival to response, at
 * most {@code max-concurrent + max-queued} of them, and {@code spare-threads} more answer refusals, which take
 * microseconds; so the worker queue holds a request at most for as long as a refusal takes. The workers are a
 * {@link LastIdleFirstExecutor} rather than Tomcat's own pool (why: its javadoc). The management port runs a Tomcat
 * of its own, untouched, so probes and metrics answer under any load.
 */
@Component
class ScoringWorkerThreads implements WebServerFactoryCustomizer<TomcatServletWebServerFactory>, MeterBinder,
        DisposableBean {

    static final String TOMCAT_MAX_THREADS = "server.tomcat.threads.max";

    private final int threads;
    private volatile LastIdleFirstExecutor executor;

    ScoringWorkerThreads(StemProperties properties, Environment environment) {
        this.threads = threads(properties.scoring(), environment);
    }

    /** @throws IllegalStateException when Tomcat's thread count is set directly, undoing the arithmetic */
    static int threads(StemProperties.Scoring scoring, Environment environment) {
        if (environment.containsProperty(TOMCAT_MAX_THREADS)) {
            throw new IllegalStateException(TOMCAT_MAX_THREADS + " is derived from stem.scoring.max-concurrent,"
                    + " max-queued and spare-threads; set those instead");
        }
        return scoring.maxConcurrent() + scoring.maxQueued() + scoring.spareThreads();
    }

    @Override
    public void customize(TomcatServletWebServerFactory factory) {
        factory.addEngineValves(new ArrivalTimeValve());
        // A connector customizer runs after every protocol handler customizer, Spring Boot's thread settings included.
        factory.addConnectorCustomizers(connector -> {
            if (connector.getProtocolHandler() instanceof AbstractProtocol<?> protocol) {
                executor = new LastIdleFirstExecutor(threads, "http-nio-" + connector.getPort() + "-exec-");
                protocol.setExecutor(executor);
            }
        });
    }

    /**
     * The workers' state: {@code stem_workers_waiting} above 0 means every worker is busy, which the arithmetic above
     * keeps from happening for longer than a refusal takes.
     */
    @Override
    public void bindTo(MeterRegistry registry) {
        gauge(registry, "stem.workers.threads", "Public-port worker threads started (at most the configured count)",
                LastIdleFirstExecutor::threads);
        gauge(registry, "stem.workers.busy", "Public-port worker threads handling a request",
                LastIdleFirstExecutor::busyThreads);
        gauge(registry, "stem.workers.waiting", "Requests waiting for a public-port worker thread",
                LastIdleFirstExecutor::waiting);
    }

    private void gauge(MeterRegistry registry, String name, String description,
            ToIntFunction<LastIdleFirstExecutor> value) {
        // The executor exists once the web server is built, which may come after the binders are bound.
        Gauge.builder(name, this, workers -> workers.executor == null ? Double.NaN
                : value.applyAsInt(workers.executor)).description(description).register(registry);
    }

    /** After the web server has stopped: Tomcat leaves an executor it was given to its owner. */
    @Override
    public void destroy() {
        if (executor != null) {
            executor.close();
        }
    }
}
