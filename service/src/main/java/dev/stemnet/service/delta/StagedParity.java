package dev.stemnet.service.delta;

import dev.stemnet.service.scoring.Deadline;
import dev.stemnet.service.scoring.EmbeddingState;
import dev.stemnet.service.scoring.ParityFixtures;
import dev.stemnet.service.scoring.Scorer;
import dev.stemnet.service.scoring.StageTimings;

/**
 * The {@code parity} check: a delta's fixtures scored with the delta staged, a state no request sees, before it is
 * published. Too few fixtures are refused too: a delta that proves nothing about its rows must not serve them.
 */
public final class StagedParity {

    /** docs/bundle-format.md: at least 50 lines. */
    public static final int MIN_FIXTURES = 50;

    private StagedParity() {}

    /**
     * @return the largest difference between a staged score and its fixture
     * @throws DeltaRefusedException {@code parity}, naming the first fixture and task that differ
     */
    public static double check(Scorer scorer, EmbeddingState staged, ParityFixtures fixtures) {
        if (fixtures.lines().size() < MIN_FIXTURES) {
            throw new DeltaRefusedException(DeltaRefusal.PARITY, fixtures.label() + " has " + fixtures.lines().size()
                    + " fixtures, a delta needs at least " + MIN_FIXTURES);
        }
        ParityFixtures.Result result;
        try {
            result = fixtures.check(request -> scorer.score(request, staged, Deadline.none(), StageTimings.NONE).results());
        } catch (ParityFixtures.MalformedFixtureException e) {
            throw new DeltaRefusedException(DeltaRefusal.PARITY, e.getMessage(), e);
        } catch (RuntimeException e) {
            // A fixture the scorer refuses (an unknown task or feature) is a fixture this delta cannot pass.
            throw new DeltaRefusedException(DeltaRefusal.PARITY, fixtures.label() + ": a fixture could not be scored: "
                    + e.getMessage(), e);
        }
        if (!result.passed()) {
            throw new DeltaRefusedException(DeltaRefusal.PARITY, result.mismatches() + " scores differ from the"
                    + " fixtures by more than " + fixtures.tolerance() + ", first at " + result.firstMismatch());
        }
        return result.maxDifference();
    }
}
