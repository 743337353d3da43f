package dev.stemnet.service;

import org.junit.jupiter.api.BeforeEach;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.springframework.test.web.servlet.client.RestTestClient;

/** The whole service on a random port, serving the test bundle; tests talk to it over real HTTP. */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
public abstract class RunningServiceTest {

    @LocalServerPort
    private int port;

    protected RestTestClient client;

    @DynamicPropertySource
    static void serveTheTestBundle(DynamicPropertyRegistry registry) {
        registry.add("stem.bundle.dir", () -> TestBundle.directory().toString());
    }

    @BeforeEach
    void connect() {
        client = RestTestClient.bindToServer().baseUrl("http://localhost:" + port).build();
    }
}
