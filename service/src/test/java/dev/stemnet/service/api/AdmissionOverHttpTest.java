package dev.stemnet.service.api;

import static org.assertj.core.api.Assertions.assertThat;

import dev.stemnet.service.Polling;
import dev.stemnet.service.PrometheusScrape;
import dev.stemnet.service.RawHttpConnection;
import dev.stemnet.service.pipeline.Admission;
import dev.stemnet.service.RunningServiceTest;
import dev.stemnet.service.config.LastIdleFirstExecutor;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.coyote.AbstractProtocol;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.boot.tomcat.TomcatWebServer;
import org.springframework.boot.web.server.context.WebServerApplicationContext;
import org.springframework.context.annotation.Import;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.test.context.TestPropertySource;

/**
 * Admission on arrival, over real connections: one scoring slot, one place in the queue. A request is refused from its
 * headers alone, before a byte of its body is sent; a client still uploading its body holds a place but never the
 * slot; QA requests are refused while serving traffic would still be queued.
 */
@Import(HeldEmbeddingStores.Wiring.class)
@TestPropertySource(properties = {
        "stem.scoring.max-concurrent=1",
        "stem.scoring.max-queued=1",
        "stem.scoring.spare-threads=3",
        "stem.scoring.deadline=1m"})
class AdmissionOverHttpTest extends RunningServiceTest {

    private static final byte[] BODY = """
            {"userId": "u1", "candidates": [{"itemId": "a1", "features": {"advertiser": "adv1"}}]}"""
            .getBytes(StandardCharsets.UTF_8);
    private static final Duration ANSWER_WITHIN = Duration.ofSeconds(30);

    @LocalServerPort
    private int port;

    @Autowired
    private HeldEmbeddingStores stores;

    @Autowired
    private Admission admission;

    @Autowired
    private WebServerApplicationContext context;

    @Test
    void refusesFromTheHeadersAloneWhileTheSlotAndTheQueueAreTaken() throws Exception {
        HeldEmbeddingStores.Hold hold = stores.holdNextFetch(Duration.ofMinutes(1));
        CompletableFuture<HttpStatus> scoring = postInBackground();
        try (RawHttpConnection queued = new RawHttpConnection(port, ANSWER_WITHIN);
                RawHttpConnection refused = new RawHttpConnection(port, ANSWER_WITHIN)) {
            assertThat(hold.awaitEntered(ANSWER_WITHIN)).as("the first request holds the slot").isTrue();
            queued.sendHeaders("/v1/score", BODY.length);
            assertThat(Polling.until(ANSWER_WITHIN, () -> admission.admitted() == 2)).as("the second is admitted, reading its body").isTrue();

            refused.sendHeaders("/v1/score", 100_000);
            assertThat(refused.readStatus()).as("refused with no body byte sent").isEqualTo(429);
            assertThat(refused.readRest()).contains("Retry-After: 1").contains("application/problem+json")
                    .contains("stem.scoring.max-queued");

            hold.release();
            queued.send(BODY);
            assertThat(queued.readStatus()).isEqualTo(200);
        } finally {
            hold.release();
        }
        assertThat(scoring.get(30, TimeUnit.SECONDS)).isEqualTo(HttpStatus.OK);
    }

    @Test
    void aClientStillUploadingItsBodyHoldsNoScoringSlot() throws Exception {
        try (RawHttpConnection slowUpload = new RawHttpConnection(port, ANSWER_WITHIN)) {
            slowUpload.sendHeaders("/v1/score", BODY.length);
            slowUpload.send(Arrays.copyOf(BODY, BODY.length / 2));
            assertThat(Polling.until(ANSWER_WITHIN, () -> admission.admitted() == 1)).isTrue();

            // The only slot is free for the next request while the upload stalls.
            client.post().uri("/v1/score").contentType(MediaType.APPLICATION_JSON).body(BODY).exchange()
                    .expectStatus().isOk();

            slowUpload.send(Arrays.copyOfRange(BODY, BODY.length / 2, BODY.length));
            assertThat(slowUpload.readStatus()).isEqualTo(200);
        }
    }

    @Test
    void refusesAQaRequestWhileServingTrafficWouldStillBeQueued() throws Exception {
        HeldEmbeddingStores.Hold hold = stores.holdNextFetch(Duration.ofMinutes(1));
        CompletableFuture<HttpStatus> scoring = postInBackground();
        CompletableFuture<HttpStatus> queued;
        try {
            assertThat(hold.awaitEntered(ANSWER_WITHIN)).isTrue();
            client.post().uri("/v1/score").contentType(MediaType.APPLICATION_JSON)
                    .header("X-Experiment-Force", "model=treatment").body(BODY).exchange()
                    .expectStatus().isEqualTo(HttpStatus.TOO_MANY_REQUESTS)
                    .expectBody().jsonPath("$.detail").value(String.class, detail ->
                            assertThat(detail).contains("QA requests"));
            queued = postInBackground();
            assertThat(Polling.until(ANSWER_WITHIN, () -> admission.admitted() == 2)).as("serving traffic is still admitted, to wait").isTrue();
        } finally {
            hold.release();
        }
        assertThat(queued.get(30, TimeUnit.SECONDS)).isEqualTo(HttpStatus.OK);
        assertThat(scoring.get(30, TimeUnit.SECONDS)).isEqualTo(HttpStatus.OK);
    }

    @Test
    void tomcatServesOnLastIdleFirstWorkersOnePerAdmittedRequestPlusTheSpareOnes() {
        TomcatWebServer server = (TomcatWebServer) context.getWebServer();
        AbstractProtocol<?> protocol = (AbstractProtocol<?>) server.getTomcat().getConnector().getProtocolHandler();
        assertThat(protocol.getExecutor()).isInstanceOfSatisfying(LastIdleFirstExecutor.class, workers -> {
            assertThat(workers.maxThreads()).isEqualTo(1 + 1 + 3);
            client.post().uri("/v1/score").contentType(MediaType.APPLICATION_JSON).body(BODY).exchange()
                    .expectStatus().isOk();
            assertThat(workers.threads()).as("threads that served requests").isBetween(1, 5);
        });
        // Scrapes are served by the management port's own Tomcat: once the request's worker has gone back to idle,
        // no public-port worker is busy or awaited.
        assertThat(Polling.until(ANSWER_WITHIN, () -> scrapeMetrics().sum("stem_workers_busy", Map.of()) == 0)).isTrue();
        PrometheusScrape metrics = scrapeMetrics();
        assertThat(metrics.sum("stem_workers_threads", Map.of())).isBetween(1.0, 5.0);
        assertThat(metrics.sum("stem_workers_waiting", Map.of())).isZero();
    }

    private CompletableFuture<HttpStatus> postInBackground() {
        return CompletableFuture.supplyAsync(() -> HttpStatus.valueOf(client.post().uri("/v1/score")
                .contentType(MediaType.APPLICATION_JSON).body(BODY).exchange().returnResult().getStatus().value()));
    }
}
