package dev.stemnet.service.model;

import static org.assertj.core.api.Assertions.assertThat;

import dev.stemnet.service.TestBundle;
import dev.stemnet.service.TestDelta;
import dev.stemnet.service.delta.DeltaApplier;
import dev.stemnet.service.delta.DeltaAttempt;
import dev.stemnet.service.delta.DeltaEvents;
import dev.stemnet.service.delta.DeltaReader;
import dev.stemnet.service.embedding.EmbeddingStoreFactory;
import jakarta.validation.Validation;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The repository's deltas, {@code <model dir>/deltas/<sequence>/}, without Spring: applied by a scan without
 * reloading the bundle, all of them on a (re)load before the version serves, a refused one remembered until its
 * files change.
 */
class RepositoryDeltasTest {
    private static final List<String> ITEMS = List.of("fresh-1", "fresh-2", "a5", "a9", "a11");

    @TempDir
    Path repository;

    private Path bundle;
    private ModelRegistry registry;
    private ModelRepository models;
    private final List<Long> sequenceWhenPublished = new ArrayList<>();

    @BeforeEach
    void repository() {
        bundle = TestBundle.copyWithVersion(repository.resolve("stem-net-0001"), "v0001");
        ModelEvents events = new NoModelEvents() {
            @Override
            public void published(String directory, LoadedModel model) {
                sequenceWhenPublished.add(model.scorer().embeddings().sequence());
            }
        };
        registry = new ModelRegistry("stem-net", events);
        models = new ModelRepository(repository, TestModelLoader.of(EmbeddingStoreFactory.mappedFiles(),
                TestModelLoader.PARITY_ONLY), registry, events,
                new DeltaApplier(new DeltaReader(Validation.buildDefaultValidatorFactory().getValidator()), DeltaEvents.NONE));
    }

    @AfterEach
    void close() throws InterruptedException {
        models.close();
        registry.close();
    }

    @Test
    void aLoadAppliesEveryDeltaFoundInOrderBeforeTheVersionServes() {
        TestDelta first = TestDelta.first(bundle).addItem("fresh-1", "a3").changeItem("a5", "a9");
        TestDelta second = first.next().addItem("fresh-2", "a7").changeItem("a9", "a11");
        // Written out of order: the scan goes by sequence.
        second.writeTo(deltaDirectory(second));
        first.writeTo(deltaDirectory(first));

        ReloadReport report = models.reload();

        assertThat(report.attempts()).extracting(LoadAttempt::outcome).containsExactly(LoadAttempt.Outcome.LOADED);
        assertThat(report.deltas()).extracting(DeltaAttempt::sequence).containsExactly(1L, 2L);
        assertThat(report.deltas()).extracting(DeltaAttempt::outcome).containsOnly(DeltaAttempt.Outcome.APPLIED);
        assertThat(sequenceWhenPublished).as("deltas applied before the version served").containsExactly(2L);
        assertThat(scores()).isEqualTo(TestDelta.expectedScores(ITEMS, second::baseItemScoringAs));
    }

    @Test
    void aDeltaAddedLaterIsAppliedByTheNextScanWithoutReloadingTheBundle() {
        models.reload();
        ServingModel serving = registry.serving("stem-net").orElseThrow();
        TestDelta delta = TestDelta.first(bundle).addItem("fresh-1", "a3").addItem("fresh-2", "a7");
        moveIn(delta);

        ReloadReport report = models.reload();

        assertThat(report.attempts()).as("the bundle is not loaded again").isEmpty();
        assertThat(report.unchanged()).containsExactly("stem-net-0001");
        assertThat(report.deltas()).singleElement().satisfies(attempt -> {
            assertThat(attempt.outcome()).isEqualTo(DeltaAttempt.Outcome.APPLIED);
            assertThat(attempt.source()).isEqualTo("stem-net-0001/deltas/000001");
        });
        assertThat(registry.serving("stem-net").orElseThrow()).isSameAs(serving);
        assertThat(serving.model().deltas().attempts()).hasSize(1);
        assertThat(scores()).isEqualTo(TestDelta.expectedScores(ITEMS, delta::baseItemScoringAs));
        assertThat(models.reload().deltas()).as("an applied delta is not tried again").isEmpty();
    }

    @Test
    void aRefusedDeltaIsTriedAgainOnlyOnceItsFilesChangeAndLaterOnesWaitBehindIt() throws IOException {
        models.reload();
        TestDelta first = TestDelta.first(bundle).addItem("fresh-1", "a3");
        TestDelta second = first.next().addItem("fresh-2", "a7");
        Path firstDir = first.writeTo(deltaDirectory(first));
        second.writeTo(deltaDirectory(second));
        // Caught half-copied: the vocabulary is still empty.
        Path vocabulary = firstDir.resolve("vocab/ad_id.txt");
        byte[] complete = Files.readAllBytes(vocabulary);
        Files.write(vocabulary, new byte[0]);
        List<Map<String, Double>> before = scores();

        ReloadReport refused = models.reload();

        assertThat(refused.deltas()).singleElement().satisfies(attempt -> {
            assertThat(attempt.outcome()).isEqualTo(DeltaAttempt.Outcome.REFUSED);
            assertThat(attempt.reason()).isEqualTo("checksum");
            assertThat(attempt.sequence()).isEqualTo(1);
        });
        assertThat(models.reload().deltas()).as("unchanged files are not tried again").isEmpty();
        assertThat(scores()).isEqualTo(before);

        Files.write(vocabulary, complete);
        Files.setLastModifiedTime(vocabulary, FileTime.from(Instant.now().plusSeconds(5)));
        ReloadReport applied = models.reload();

        assertThat(applied.deltas()).extracting(DeltaAttempt::outcome)
                .containsExactly(DeltaAttempt.Outcome.APPLIED, DeltaAttempt.Outcome.APPLIED);
        assertThat(scores()).isEqualTo(TestDelta.expectedScores(ITEMS, second::baseItemScoringAs));
    }

    private Path deltaDirectory(TestDelta delta) {
        return bundle.resolve("deltas").resolve(delta.directoryName());
    }

    /** Written elsewhere and moved in whole, as an operator (or the trainer) should. */
    private void moveIn(TestDelta delta) {
        try {
            Path staged = delta.writeTo(Files.createTempDirectory("staged-delta").resolve(delta.directoryName()));
            Files.createDirectories(bundle.resolve("deltas"));
            Files.move(staged, deltaDirectory(delta), StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private List<Map<String, Double>> scores() {
        try (ModelLease lease = registry.lease("stem-net")) {
            return TestDelta.scores(lease.model().scorer(), ITEMS);
        }
    }
}
