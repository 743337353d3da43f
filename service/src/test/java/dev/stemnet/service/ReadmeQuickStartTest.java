package dev.stemnet.service;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.springframework.http.MediaType;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * The quick start of the repository's README.md, as a user meets it: its curl body is posted to a running
 * service, and the answer must have the shape the README shows (the same keys, items in the same order, the same
 * tasks). The values differ: the README shows `make run`'s model, this test serves the tiny test bundle.
 */
class ReadmeQuickStartTest extends RunningServiceTest {

    private static final JsonMapper JSON = JsonMapper.builder().build();
    private static final Pattern CURL_BODY = Pattern.compile("curl -s localhost:8080/v1/score [^\\n]*-d '(\\{.*?\\})'",
            Pattern.DOTALL);
    private static final Pattern RESPONSE = Pattern.compile("```json\\n(\\{\"requestId\".*?)\\n```", Pattern.DOTALL);

    @Test
    void theReadmesCurlGetsTheAnswerTheReadmeShows() throws IOException {
        String readme = Files.readString(Path.of(System.getProperty("user.dir")).resolve("../README.md"));
        Matcher curl = CURL_BODY.matcher(readme);
        Matcher shown = RESPONSE.matcher(readme);
        assertThat(curl.find()).as("the quick start's curl in README.md").isTrue();
        assertThat(shown.find()).as("the quick start's response in README.md").isTrue();

        String body = client.post().uri("/v1/score").contentType(MediaType.APPLICATION_JSON).body(curl.group(1))
                .exchange().expectStatus().isOk().expectBody(String.class).returnResult().getResponseBody();

        JsonNode actual = JSON.readTree(body);
        JsonNode expected = JSON.readTree(shown.group(1));
        assertThat(fieldNames(actual)).isEqualTo(fieldNames(expected));
        assertThat(actual.get("requestId").asString()).isEqualTo(expected.get("requestId").asString());
        assertThat(actual.get("results").size()).isEqualTo(expected.get("results").size());
        for (int i = 0; i < expected.get("results").size(); i++) {
            JsonNode result = actual.get("results").get(i);
            JsonNode documented = expected.get("results").get(i);
            assertThat(result.get("itemId").asString()).isEqualTo(documented.get("itemId").asString());
            assertThat(fieldNames(result.get("scores"))).isEqualTo(fieldNames(documented.get("scores")));
            result.get("scores").forEach(score -> assertThat(score.asDouble()).isBetween(0.0, 1.0));
        }
    }

    private static List<String> fieldNames(JsonNode node) {
        List<String> names = new ArrayList<>();
        node.propertyNames().forEach(names::add);
        return names;
    }
}
