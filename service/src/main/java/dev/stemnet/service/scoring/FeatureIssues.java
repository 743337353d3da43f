package dev.stemnet.service.scoring;

import java.util.HashMap;
import java.util.Map;

/**
 * What one request's features lacked or had too much of, counted by field, for the metrics. Unknown feature
 * names are counted under their own name only when the model knows the name (a field sent on the wrong side,
 * or an id field): any other name goes under {@link #OTHER_FEATURE}, so clients cannot grow the label set.
 */
public final class FeatureIssues {

    public static final String OTHER_FEATURE = "other";

    private final Map<String, Integer> unknownFeatures = new HashMap<>();
    private final Map<String, Integer> missingValues = new HashMap<>();
    private final Map<String, Integer> unknownValues = new HashMap<>();

    void unknownFeature(String label) {
        unknownFeatures.merge(label, 1, Integer::sum);
    }

    void missingValue(String field) {
        missingValues.merge(field, 1, Integer::sum);
    }

    void unknownValue(String field) {
        unknownValues.merge(field, 1, Integer::sum);
    }

    /** Features that are not a field of their side, by field name or {@link #OTHER_FEATURE}. */
    public Map<String, Integer> unknownFeatures() {
        return unknownFeatures;
    }

    /** Values left out or {@code null}, scored with the field's OOV row, by field. */
    public Map<String, Integer> missingValues() {
        return missingValues;
    }

    /** Values the vocabulary does not have, scored with the field's OOV row, by field. */
    public Map<String, Integer> unknownValues() {
        return unknownValues;
    }
}
