package dev.stemnet.service.scoring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** The open-loop phases' HTTP sender, against a real loopback server. */
class OpenLoopTest {

    @Test
    void theOpenLoopSenderPostsTheBodyOverOneKeptAliveConnectionAndFailsOnAnythingBut200() throws Exception {
        byte[] body = LoopbackScoreServer.BODY.getBytes(StandardCharsets.UTF_8);
        Set<Integer> clientPorts = ConcurrentHashMap.newKeySet();
        AtomicInteger received = new AtomicInteger();
        AtomicInteger malformed = new AtomicInteger();
        HttpServer server = LoopbackScoreServer.start(exchange -> {
            byte[] posted = exchange.getRequestBody().readAllBytes();
            if (!exchange.getRequestMethod().equals("POST")
                    || !"application/json".equals(exchange.getRequestHeaders().getFirst("Content-Type"))
                    || !Arrays.equals(posted, body)) {
                malformed.incrementAndGet();
            }
            clientPorts.add(exchange.getRemoteAddress().getPort());
            boolean refuse = received.incrementAndGet() == 3;
            byte[] answer = (refuse ? "{\"title\":\"busy\"}" : "{\"results\":[]}").getBytes(StandardCharsets.UTF_8);
            exchange.sendResponseHeaders(refuse ? 429 : 200, answer.length);
            exchange.getResponseBody().write(answer);
            exchange.close();
        });
        try {
            Op send = OpenLoop.post(LoopbackScoreServer.scoreUrl(server), body);

            send.call();
            send.call();
            assertThatThrownBy(send::call).isInstanceOf(IOException.class).hasMessageContaining("HTTP 429")
                    .hasMessageContaining("busy");
            send.call();

            assertThat(received).hasValue(4);
            assertThat(malformed).hasValue(0);
            assertThat(clientPorts).as("one connection, kept alive across requests and the refusal").hasSize(1);
        } finally {
            server.stop(0);
        }
    }
}
