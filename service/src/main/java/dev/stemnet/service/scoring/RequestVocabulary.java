package dev.stemnet.service.scoring;

import dev.stemnet.service.bundle.Vocabulary;

/**
 * One field's vocabulary as one request sees it: each distinct value is looked up in the vocabulary once, and
 * every repeat of it is answered from a small open-addressing table of the request's own values. In a request of
 * 200 candidates most item values repeat (a few advertisers and categories); a vocabulary may hold millions of
 * values, so its lookups miss the CPU caches, while this table of at most one value per candidate stays in them.
 */
final class RequestVocabulary {

    private final Vocabulary vocabulary;
    private final String[] values;
    private final int[] indices;

    /** @param maxDistinctValues how many values the request can send for the field: one per candidate, or one */
    RequestVocabulary(Vocabulary vocabulary, int maxDistinctValues) {
        this.vocabulary = vocabulary;
        // At most half full, so that probe sequences stay short and an empty slot always ends them.
        int capacity = Integer.highestOneBit(Math.max(4, maxDistinctValues * 2 - 1)) << 1;
        this.values = new String[capacity];
        this.indices = new int[capacity];
    }

    /** As {@link Vocabulary#indexOf}: {@link Vocabulary#OOV_INDEX} for {@code null} and unknown values. */
    int indexOf(String value) {
        if (value == null) {
            return Vocabulary.OOV_INDEX;
        }
        int mask = values.length - 1;
        int slot = spread(value.hashCode()) & mask;
        for (String seen = values[slot]; seen != null; seen = values[slot]) {
            if (seen.equals(value)) {
                return indices[slot];
            }
            slot = (slot + 1) & mask;
        }
        int index = vocabulary.indexOf(value);
        values[slot] = value;
        indices[slot] = index;
        return index;
    }

    // The slot takes only the hash's low bits: mix the high bits in, as HashMap does.
    private static int spread(int hash) {
        return hash ^ (hash >>> 16);
    }
}
