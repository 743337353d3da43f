package dev.stemnet.service;

import static org.assertj.core.api.Assertions.assertThat;

import dev.stemnet.service.model.ModelRegistry;
import dev.stemnet.service.model.ServingModel;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.springframework.boot.SpringApplication;
import org.springframework.context.ConfigurableApplicationContext;

class ShutdownTest {

    @Test
    void closingTheApplicationClosesTheSessionsOfItsModels() throws InterruptedException {
        ConfigurableApplicationContext context = SpringApplication.run(StemNetServiceApplication.class,
                "--server.port=0", "--management.server.port=0",
                "--stem.models.repository=" + TestBundle.repository());
        ModelRegistry registry = context.getBean(ModelRegistry.class);
        assertThat(Polling.until(Duration.ofSeconds(60), () -> registry.isServing("stem-net"))).isTrue();
        ServingModel model = registry.serving("stem-net").orElseThrow();

        context.close();

        assertThat(model.awaitClosed(Duration.ofSeconds(10))).isTrue();
        assertThat(model.state()).isEqualTo(ServingModel.State.CLOSED);
    }
}
