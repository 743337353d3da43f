package dev.stemnet.service;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.util.List;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.springframework.http.MediaType;

/**
 * service/README.md's metrics table is the one place the service's meters are described: every {@code stem_*}
 * family a running service exports after scoring a request has its row. (Meters registered only when something
 * goes wrong are not in this scrape; the tests of those paths scrape them by their documented names.)
 */
class DocumentedMetricsTest extends RunningServiceTest {

    private static final Pattern FAMILY = Pattern.compile("^# TYPE (stem_[a-z0-9_]+) ");
    private static final Pattern ROW_METRIC = Pattern.compile("^\\| `(stem_[a-z0-9_]+)`");

    @Test
    void everyExportedStemMeterHasARow() throws IOException {
        client.post().uri("/v1/score").contentType(MediaType.APPLICATION_JSON).body(ParityRequests.request(0))
                .exchange().expectStatus().isOk();
        String scrape = management.get().uri("/actuator/prometheus").exchange().expectStatus().isOk()
                .expectBody(String.class).returnResult().getResponseBody();

        TreeSet<String> exported = matches(scrape.lines().toList(), FAMILY);
        TreeSet<String> documented = matches(Files.readAllLines(DocumentedSettingsTest.readme()), ROW_METRIC);

        assertThat(exported).as("stem_* families in the scrape").isNotEmpty();
        // A timer's or summary's _max gauge belongs to its row; a counter's row may name it with or without _total.
        assertThat(exported.stream().map(family -> family.replaceAll("_max$", ""))
                .filter(family -> !documented.contains(family) && !documented.contains(family + "_total")
                        && !documented.contains(family.replaceAll("_total$", ""))))
                .as("exported families without a row in service/README.md's metrics table").isEmpty();
    }

    private static TreeSet<String> matches(List<String> lines, Pattern pattern) {
        TreeSet<String> names = new TreeSet<>();
        for (String line : lines) {
            Matcher match = pattern.matcher(line);
            if (match.find()) {
                names.add(match.group(1));
            }
        }
        return names;
    }
}
