package dev.stemnet.service;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.util.List;
import tools.jackson.databind.json.JsonMapper;

/** Valid {@code POST /v1/score} bodies: the requests of the test bundle's parity fixtures. */
public final class ParityRequests {

    private static final JsonMapper JSON = JsonMapper.builder().build();

    private ParityRequests() {}

    /** The request of fixture {@code index} (0-based) as JSON text. */
    public static String request(int index) {
        try {
            List<String> lines = Files.readAllLines(TestBundle.directory().resolve("parity.jsonl"));
            return JSON.writeValueAsString(JSON.readTree(lines.get(index)).get("request"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
