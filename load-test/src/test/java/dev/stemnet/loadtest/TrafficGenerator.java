package dev.stemnet.loadtest;

import dev.stemnet.loadtest.BundleVocabulary.Field;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * Builds {@code POST /v1/score} bodies that look like production traffic: users and ads drawn from the bundle's
 * vocabularies with Zipf popularity (a few heavy users and ads, a long tail), a uniform number of distinct
 * candidates per request, and a share of user and ad ids the model has never seen. A user's or an ad's other
 * features are a function of its id, as they would be in a real catalogue. Not thread-safe: use one per thread.
 */
public final class TrafficGenerator {

    /** How the traffic looks; see {@link #fromSystemProperties()} for the property of each. */
    public record Settings(int minCandidates, int maxCandidates, double zipfExponent, double unknownShare, long seed) {

        public Settings {
            if (minCandidates < 1 || maxCandidates < minCandidates) {
                throw new IllegalArgumentException("need 1 <= minCandidates <= maxCandidates, got "
                        + minCandidates + ".." + maxCandidates);
            }
            if (unknownShare < 0 || unknownShare > 1) {
                throw new IllegalArgumentException("unknownShare must be within [0, 1], got " + unknownShare);
            }
        }

        public static Settings fromSystemProperties() {
            return new Settings(
                    Integer.getInteger("stem.candidates.min", 50),
                    Integer.getInteger("stem.candidates.max", 500),
                    Double.parseDouble(System.getProperty("stem.zipf.exponent", "1.1")),
                    Double.parseDouble(System.getProperty("stem.unknown.share", "0.05")),
                    Long.getLong("stem.seed", 42L));
        }
    }

    private final BundleVocabulary vocabulary;
    private final Settings settings;
    private final SplittableRandom random;
    private final ZipfSampler users;
    private final ZipfSampler ads;
    private final ZipfSampler[] userFieldValues;
    private final ZipfSampler[] itemFieldValues;
    private long requests;

    public TrafficGenerator(BundleVocabulary vocabulary, Settings settings) {
        this.vocabulary = vocabulary;
        this.settings = settings;
        this.random = new SplittableRandom(settings.seed());
        this.users = new ZipfSampler(vocabulary.userIdValues().values().size(), settings.zipfExponent());
        this.ads = new ZipfSampler(vocabulary.itemIdValues().values().size(), settings.zipfExponent());
        if (vocabulary.itemIdValues().values().size() * 2 < settings.maxCandidates()) {
            // Drawing distinct ads would take ever longer; unknown ids fill the rest but the traffic gets odd.
            System.err.println("warning: " + vocabulary.itemIdValues().values().size()
                    + " known ads for up to " + settings.maxCandidates() + " candidates per request");
        }
        this.userFieldValues = samplers(vocabulary.userFields(), settings.zipfExponent());
        this.itemFieldValues = samplers(vocabulary.itemFields(), settings.zipfExponent());
    }

    private static ZipfSampler[] samplers(List<Field> fields, double exponent) {
        return fields.stream().map(f -> new ZipfSampler(f.values().size(), exponent)).toArray(ZipfSampler[]::new);
    }

    /** A candidate count drawn uniformly from {@code [minCandidates, maxCandidates]}. */
    public int nextCandidateCount() {
        return settings.minCandidates() + random.nextInt(settings.maxCandidates() - settings.minCandidates() + 1);
    }

    public String nextBody() {
        return body(nextCandidateCount());
    }

    /** A request body with exactly {@code candidates} candidates, all with distinct item ids. */
    public String body(int candidates) {
        long id = requests++;
        StringBuilder json = new StringBuilder(128 + candidates * 110);
        json.append("{\"requestId\":\"lt-").append(settings.seed()).append('-').append(id).append('"');

        boolean unknownUser = random.nextDouble() < settings.unknownShare();
        int userRank = users.sample(random);
        String userId = unknownUser ? "u_unseen_" + random.nextInt(1_000_000) : value(vocabulary.userIdValues(), userRank);
        json.append(",\"userId\":");
        string(json, userId);
        json.append(",\"userFeatures\":");
        features(json, vocabulary.userFields(), vocabulary.userIdField(), userFieldValues, userId.hashCode());

        json.append(",\"candidates\":[");
        Set<String> seen = new HashSet<>(candidates * 2);
        for (int c = 0; c < candidates; c++) {
            String itemId = nextItemId(seen);
            json.append(c == 0 ? "{\"itemId\":" : ",{\"itemId\":");
            string(json, itemId);
            json.append(",\"features\":");
            features(json, vocabulary.itemFields(), vocabulary.itemIdField(), itemFieldValues, itemId.hashCode());
            json.append('}');
        }
        return json.append("]}").toString();
    }

    private String nextItemId(Set<String> seen) {
        if (random.nextDouble() >= settings.unknownShare()) {
            // Popular ads are drawn again and again; a bounded number of tries keeps this fast for small vocabularies.
            for (int attempt = 0; attempt < 32; attempt++) {
                String known = value(vocabulary.itemIdValues(), ads.sample(random));
                if (seen.add(known)) {
                    return known;
                }
            }
        }
        String unseen;
        do {
            unseen = "a_unseen_" + random.nextInt(Integer.MAX_VALUE);
        } while (!seen.add(unseen));
        return unseen;
    }

    /** The entity's non-id features: fixed per entity (seeded by its id), Zipf over each field's values. */
    private static void features(StringBuilder json, List<Field> fields, String idField, ZipfSampler[] samplers,
            long entitySeed) {
        SplittableRandom entity = new SplittableRandom(entitySeed);
        json.append('{');
        boolean first = true;
        for (int f = 0; f < fields.size(); f++) {
            Field field = fields.get(f);
            if (field.name().equals(idField)) {
                continue;
            }
            if (!first) {
                json.append(',');
            }
            first = false;
            string(json, field.name());
            json.append(':');
            string(json, value(field, samplers[f].sample(entity)));
        }
        json.append('}');
    }

    private static String value(Field field, int rank) {
        return field.values().get(rank);
    }

    private static void string(StringBuilder json, String value) {
        json.append('"');
        for (int i = 0; i < value.length(); i++) {
            char ch = value.charAt(i);
            switch (ch) {
                case '"' -> json.append("\\\"");
                case '\\' -> json.append("\\\\");
                default -> {
                    if (ch < 0x20) {
                        json.append(String.format("\\u%04x", (int) ch));
                    } else {
                        json.append(ch);
                    }
                }
            }
        }
        json.append('"');
    }
}
