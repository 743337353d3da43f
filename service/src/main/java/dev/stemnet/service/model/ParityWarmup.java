package dev.stemnet.service.model;

import dev.stemnet.service.bundle.InvalidBundleException;
import dev.stemnet.service.bundle.Manifest;
import dev.stemnet.service.scoring.Deadline;
import dev.stemnet.service.scoring.ParityFixtures;
import dev.stemnet.service.scoring.StageTimings;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Scores every request of the bundle's parity fixtures through the full scoring path before the model
 * serves, and refuses the bundle when any score is further from the trainer's than the manifest's
 * {@code parityTolerance} (1e-5 when it names none; an int8 bundle names its own, its fixtures scored by the int8
 * graph). This warms the session, the caches and the page cache, and catches a bad export before it answers anyone.
 * Where the store's rows were changed by deltas already (Redis), the fixtures of the newest delta stand in for the
 * bundle's ({@link StoredDeltas}).
 */
final class ParityWarmup {

    private ParityWarmup() {}

    /** The bundle's own fixtures, with its tolerance. */
    static ParityFixtures bundleFixtures(LoadedModel model) {
        Manifest manifest = model.manifest();
        if (manifest.parityFixtures() == null) {
            throw new InvalidBundleException("manifest.json: parityFixtures is missing; every model is checked"
                    + " against its fixtures before it serves");
        }
        Path file = model.bundle().file(manifest.parityFixtures());
        try {
            return new ParityFixtures(manifest.parityFixtures(), Files.readAllLines(file),
                    manifest.parityToleranceOrDefault());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the parity fixtures " + file, e);
        }
    }

    /**
     * @return the largest difference between a served score and its fixture
     * @throws InvalidBundleException naming the first fixture and task that differ, or an unreadable line
     */
    static double check(LoadedModel model, ParityFixtures fixtures) {
        ParityFixtures.Result result;
        try {
            result = fixtures.check(request -> model.scorer().score(request, Deadline.none(), StageTimings.NONE).results());
        } catch (ParityFixtures.MalformedFixtureException e) {
            throw new InvalidBundleException(e.getMessage(), e);
        }
        if (!result.passed()) {
            throw new InvalidBundleException("warm-up: " + result.mismatches() + " scores differ from the parity"
                    + " fixtures by more than " + fixtures.tolerance() + " (parityTolerance of this "
                    + model.manifest().precision() + " bundle), first at " + result.firstMismatch());
        }
        return result.maxDifference();
    }
}
