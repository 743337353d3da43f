package dev.stemnet.service;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.junit.jupiter.api.BeforeEach;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalManagementPort;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.springframework.test.web.servlet.client.RestTestClient;

/**
 * The whole service on random ports, with the management endpoints on a port of their own; tests talk to it over
 * real HTTP: {@link #client} on the public port, {@link #management} on the management port. Before each test it
 * waits until {@link #isReady()} holds, for at most {@link #readyWithin()}.
 *
 * <p>It registers no {@code stem.models.repository}: a subclass serves the repository of its choice with a
 * {@code @DynamicPropertySource} of its own ({@link RunningServiceTest} serves the shared test repository).
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
public abstract class ServiceOverHttp {

    private static final Duration READY_WITHIN = Duration.ofSeconds(60);

    @LocalServerPort
    private int port;

    @LocalManagementPort
    private int managementPort;

    protected RestTestClient client;
    protected RestTestClient management;

    @DynamicPropertySource
    static void managementOnItsOwnPort(DynamicPropertyRegistry registry) {
        registry.add("management.server.port", () -> "0");
    }

    /** The first scan runs in the background: wait until the service says it is ready. */
    @BeforeEach
    void connectWhenReady() {
        client = RestTestClient.bindToServer().baseUrl("http://localhost:" + port).build();
        management = RestTestClient.bindToServer().baseUrl("http://localhost:" + managementPort).build();
        Duration within = readyWithin();
        assertThat(Polling.until(within, this::isReady)).as("ready within %d s", within.toSeconds()).isTrue();
    }

    /** How long {@link #connectWhenReady()} waits for {@link #isReady()}: 60 s unless a subclass says otherwise. */
    protected Duration readyWithin() {
        return READY_WITHIN;
    }

    /** Ready to test: by default, the readiness probe on the management port answers 200. */
    protected boolean isReady() {
        return isReady(management);
    }

    /** Whether the readiness probe behind this management client answers 200: for a service of the test's own. */
    public static boolean isReady(RestTestClient management) {
        return management.get().uri("/actuator/health/readiness").exchange().returnResult().getStatus().value() == 200;
    }

    /** The management port's Prometheus page, as it is now. */
    protected PrometheusScrape scrapeMetrics() {
        return new PrometheusScrape(management.get().uri("/actuator/prometheus").exchange()
                .expectStatus().isOk()
                .expectBody(String.class).returnResult().getResponseBody());
    }
}
