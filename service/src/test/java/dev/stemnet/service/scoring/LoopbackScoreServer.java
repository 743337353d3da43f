package dev.stemnet.service.scoring;

import com.sun.net.httpserver.HttpHandler;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;

/** A loopback HTTP server answering {@code /v1/score}, for the benches' clients to be tested against. */
final class LoopbackScoreServer {

    static final String BODY = "{\"userId\":\"u1\",\"candidates\":[]}";

    private LoopbackScoreServer() {}

    /** Started; the caller stops it. */
    static HttpServer start(HttpHandler handler) throws IOException {
        HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/v1/score", handler);
        server.start();
        return server;
    }

    static URI scoreUrl(HttpServer server) {
        return URI.create("http://127.0.0.1:" + server.getAddress().getPort() + "/v1/score");
    }
}
