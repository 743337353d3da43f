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
 * The whole service on random ports, serving a repository with the test bundle; tests talk to it over real
 * HTTP: {@link #client} on the public port, {@link #management} on the management port.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
public abstract class RunningServiceTest {

    public static final String ADMIN_TOKEN = "test-admin-token";

    @LocalServerPort
    private int port;

    @LocalManagementPort
    private int managementPort;

    protected RestTestClient client;
    protected RestTestClient management;

    @DynamicPropertySource
    static void serveTheTestBundle(DynamicPropertyRegistry registry) {
        registry.add("stem.models.repository", () -> TestBundle.repository().toString());
        registry.add("management.server.port", () -> "0");
        registry.add("stem.admin.token", () -> ADMIN_TOKEN);
    }

    /** The first scan runs in the background: wait until the default model serves. */
    @BeforeEach
    void connectWhenReady() {
        client = RestTestClient.bindToServer().baseUrl("http://localhost:" + port).build();
        management = RestTestClient.bindToServer().baseUrl("http://localhost:" + managementPort).build();
        assertThat(Polling.until(Duration.ofSeconds(60), this::isReady)).as("ready within 60 s").isTrue();
    }

    /** The management port's Prometheus page, as it is now. */
    protected PrometheusScrape scrapeMetrics() {
        return new PrometheusScrape(management.get().uri("/actuator/prometheus").exchange()
                .expectStatus().isOk()
                .expectBody(String.class).returnResult().getResponseBody());
    }

    protected boolean isReady() {
        return management.get().uri("/actuator/health/readiness").exchange().returnResult().getStatus().value() == 200;
    }
}
