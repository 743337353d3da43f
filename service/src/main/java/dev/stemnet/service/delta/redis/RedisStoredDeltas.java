package dev.stemnet.service.delta.redis;

import dev.stemnet.service.delta.DeltaAttempt;
import dev.stemnet.service.embedding.EmbeddingStoreUnavailableException;
import dev.stemnet.service.embedding.redis.RedisConnection;
import dev.stemnet.service.embedding.redis.RedisKeyLayout;
import dev.stemnet.service.model.LoadedModel;
import dev.stemnet.service.model.StoredDeltas;
import dev.stemnet.service.scoring.Deadline;
import dev.stemnet.service.scoring.ParityFixtures;
import dev.stemnet.service.scoring.StageTimings;
import io.lettuce.core.RedisException;
import java.util.List;

/**
 * A version loading from Redis (a replica starting, or a reload) whose deltas 1..n are in Redis already applies
 * their records in order before its parity check. Its rows in Redis are those after delta n, so the bundle's
 * fixtures no longer hold where a delta changed rows: delta n's fixtures, which the loader checked against these
 * rows, are checked instead. Should a loader complete delta n+1 meanwhile, its changed rows fail n's fixtures; the
 * catch-up then goes on to n+1 and checks again, a few times at most.
 */
public final class RedisStoredDeltas implements StoredDeltas {

    private static final int ATTEMPTS = 3;

    private final RedisConnection redis;
    private final RedisRecordApplier applier;

    public RedisStoredDeltas(RedisConnection redis, RedisRecordApplier applier) {
        this.redis = redis;
        this.applier = applier;
    }

    @Override
    public ParityFixtures catchUp(LoadedModel model) {
        var info = model.manifest().model();
        RedisDeltaRecords records = new RedisDeltaRecords(redis, new RedisKeyLayout(info.name(), info.version()));
        ParityFixtures fixtures = null;
        for (int attempt = 1; attempt <= ATTEMPTS; attempt++) {
            fixtures = catchUpOnce(model, records);
            if (fixtures == null) {
                return StoredDeltas.bundleFixtures(model);
            }
            if (passes(model, fixtures) || latestSequence(records) == model.scorer().embeddings().sequence()) {
                return fixtures;
            }
        }
        return fixtures;
    }

    /** @return the fixtures of the newest delta applied, null for none */
    private ParityFixtures catchUpOnce(LoadedModel model, RedisDeltaRecords records) {
        try {
            List<DeltaAttempt> attempts = applier.catchUp(records, model.deltaTarget());
            for (DeltaAttempt attempt : attempts) {
                if (attempt.outcome() == DeltaAttempt.Outcome.REFUSED) {
                    throw new IllegalStateException("delta " + attempt.sequence() + " in Redis cannot be applied to "
                            + records.keys().model() + " " + records.keys().version() + " (" + attempt.reason() + "): "
                            + attempt.message());
                }
            }
            long sequence = model.scorer().embeddings().sequence();
            if (sequence == 0) {
                return null;
            }
            RedisDeltaRecord newest = records.read(sequence);
            return new ParityFixtures("delta " + sequence + " parity fixtures (Redis)", newest.parityFixtures(),
                    newest.delta().parityToleranceOrDefault());
        } catch (RedisException e) {
            throw unavailable(records, e);
        }
    }

    private long latestSequence(RedisDeltaRecords records) {
        try {
            return records.latestSequence();
        } catch (RedisException e) {
            throw unavailable(records, e);
        }
    }

    private static boolean passes(LoadedModel model, ParityFixtures fixtures) {
        try {
            return fixtures.check(request -> model.scorer().score(request, Deadline.none(), StageTimings.NONE).results())
                    .passed();
        } catch (RuntimeException e) {
            // The parity check proper reports it.
            return true;
        }
    }

    /** Tried again by the repository, as a store that cannot serve yet. */
    private EmbeddingStoreUnavailableException unavailable(RedisDeltaRecords records, RedisException e) {
        return new EmbeddingStoreUnavailableException("redis", null, "unavailable", redis + " cannot serve the deltas"
                + " of " + records.keys().model() + " " + records.keys().version() + " now: " + e.getMessage(), e);
    }
}
