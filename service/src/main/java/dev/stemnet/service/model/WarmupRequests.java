package dev.stemnet.service.model;

import dev.stemnet.service.bundle.Manifest;
import dev.stemnet.service.bundle.Manifest.FieldSpec;
import dev.stemnet.service.bundle.Manifest.Side;
import dev.stemnet.service.bundle.ModelBundle;
import dev.stemnet.service.bundle.Vocabulary;
import dev.stemnet.service.scoring.ScoreRequest;
import dev.stemnet.service.scoring.ScoreRequest.Candidate;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * Score requests shaped like production traffic, made from a bundle alone: one user and a fixed number of
 * candidates with distinct item ids, every field of each side given, values drawn from the field's vocabulary with
 * Zipf popularity (the trainer writes each vocabulary most frequent first, so a popular value is a low index), and
 * about {@value #UNKNOWN_SHARE} of all values ones the model has never seen, as the load test's traffic has. The
 * same bundle and seed give the same requests. Not thread-safe.
 */
public final class WarmupRequests {

    static final double UNKNOWN_SHARE = 0.05;
    private static final String UNSEEN_PREFIX = "warmup-unseen-";
    /** Draws of a known item id before a candidate takes an unseen one: a small vocabulary runs out of new ones. */
    private static final int KNOWN_ITEM_ATTEMPTS = 32;

    private final Vocabulary userIds;
    private final Vocabulary itemIds;
    private final Map<String, Vocabulary> userFeatures;
    private final Map<String, Vocabulary> itemFeatures;
    private final Map<String, Vocabulary> contextFeatures;
    private final int candidates;
    private final SplittableRandom random;
    private long sequence;

    public WarmupRequests(ModelBundle bundle, int candidates, long seed) {
        Manifest manifest = bundle.manifest();
        this.userIds = bundle.vocabulary(manifest.userIdField());
        this.itemIds = bundle.vocabulary(manifest.itemIdField());
        this.userFeatures = features(bundle, Side.USER, manifest.userIdField());
        this.itemFeatures = features(bundle, Side.ITEM, manifest.itemIdField());
        this.contextFeatures = features(bundle, Side.CONTEXT, null);
        this.candidates = candidates;
        this.random = new SplittableRandom(seed);
    }

    /** The vocabulary of every field of {@code side} a request sends as a feature: all but the id field (none: null). */
    private static Map<String, Vocabulary> features(ModelBundle bundle, Side side, String idField) {
        Map<String, Vocabulary> features = new HashMap<>();
        for (FieldSpec field : bundle.manifest().fields()) {
            if (field.side() == side && !field.name().equals(idField)) {
                features.put(field.name(), bundle.vocabulary(field.name()));
            }
        }
        return features;
    }

    public ScoreRequest next() {
        String requestId = "warmup-" + sequence++;
        String userId = value(userIds);
        Set<String> seen = new HashSet<>(candidates * 2);
        List<Candidate> list = new ArrayList<>(candidates);
        for (int c = 0; c < candidates; c++) {
            list.add(new Candidate(itemId(seen), values(itemFeatures)));
        }
        return new ScoreRequest(requestId, null, userId, values(userFeatures), list, null, values(contextFeatures));
    }

    private Map<String, String> values(Map<String, Vocabulary> fields) {
        Map<String, String> values = new HashMap<>(fields.size() * 2);
        fields.forEach((name, vocabulary) -> values.put(name, value(vocabulary)));
        return values;
    }

    private String itemId(Set<String> seen) {
        if (random.nextDouble() >= UNKNOWN_SHARE) {
            for (int attempt = 0; attempt < KNOWN_ITEM_ATTEMPTS && itemIds.size() > 1; attempt++) {
                String known = known(itemIds);
                if (seen.add(known)) {
                    return known;
                }
            }
        }
        String unseen;
        do {
            unseen = unseen();
        } while (!seen.add(unseen));
        return unseen;
    }

    private String value(Vocabulary vocabulary) {
        return vocabulary.size() > 1 && random.nextDouble() >= UNKNOWN_SHARE ? known(vocabulary) : unseen();
    }

    /**
     * Rank {@code r} (0 the most frequent) with probability about {@code 1 / ((r + 1.5) ln(n + 1))}: the inverse
     * CDF of the density {@code 1/x} on {@code [1, n + 1)}, Zipf with exponent 1, without a table per field.
     */
    private String known(Vocabulary vocabulary) {
        int known = (int) (vocabulary.size() - 1);
        int rank = (int) Math.pow(known + 1, random.nextDouble()) - 1;
        return vocabulary.value(Math.min(rank, known - 1) + 1);
    }

    private String unseen() {
        return UNSEEN_PREFIX + random.nextInt(Integer.MAX_VALUE);
    }
}
