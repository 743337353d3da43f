package dev.stemnet.service.bundle;

import java.io.IOException;
import java.nio.charset.CharacterCodingException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * One field's values in index order; index 0 is the out-of-vocabulary row. Immutable: a delta's added values make a
 * new vocabulary ({@link #withAdded}) that shares the bundle's values and keeps the added ones apart, so that adding
 * a few values to a field of millions copies only the added ones.
 */
public final class Vocabulary {

    public static final int OOV_INDEX = 0;

    private final Map<String, Integer> indexByValue;
    /** {@code values[i]} has index {@code i + 1}; the same strings as the map's keys. */
    private final String[] values;
    /** Values added by deltas, indices {@code values.length + 1} on; null while there are none. */
    private final Map<String, Integer> addedIndexByValue;
    /** {@code addedValues[k]} has index {@code values.length + 1 + k}. */
    private final String[] addedValues;

    private Vocabulary(Map<String, Integer> indexByValue, String[] values, Map<String, Integer> addedIndexByValue,
            String[] addedValues) {
        this.indexByValue = indexByValue;
        this.values = values;
        this.addedIndexByValue = addedIndexByValue;
        this.addedValues = addedValues;
    }

    /** @param values the in-vocabulary values; {@code values.get(i)} gets index {@code i + 1} */
    public static Vocabulary of(List<String> values) {
        Map<String, Integer> indexByValue = new HashMap<>(values.size() * 2);
        for (int i = 0; i < values.size(); i++) {
            if (indexByValue.putIfAbsent(values.get(i), i + 1) != null) {
                throw new IllegalArgumentException("value '" + values.get(i) + "' appears twice");
            }
        }
        return new Vocabulary(indexByValue, values.toArray(String[]::new), null, new String[0]);
    }

    /**
     * This vocabulary with {@code added} appended: the k-th added value gets index {@code size() + k}.
     *
     * @throws IllegalArgumentException when a value is already in the vocabulary or appears twice in {@code added}
     */
    public Vocabulary withAdded(List<String> added) {
        Map<String, Integer> addedIndices = new HashMap<>(addedIndexByValue == null ? Map.of() : addedIndexByValue);
        String[] allAdded = Arrays.copyOf(addedValues, addedValues.length + added.size());
        long next = size();
        for (int k = 0; k < added.size(); k++) {
            String value = added.get(k);
            if (value == null) {
                throw new IllegalArgumentException("an added value is null");
            }
            if (indexOf(value) != OOV_INDEX || addedIndices.putIfAbsent(value, Math.toIntExact(next + k)) != null) {
                throw new IllegalArgumentException("value '" + value + "' is already in the vocabulary");
            }
            allAdded[addedValues.length + k] = value;
        }
        return new Vocabulary(indexByValue, values, addedIndices, allAdded);
    }

    /** Reads {@code vocab/<field>.txt}: UTF-8, one value per line, each line ended by '\n'. */
    static Vocabulary read(Path file) throws IOException {
        return of(readValues(file));
    }

    /** The values of a vocabulary file (a bundle's, or the values a delta adds), in index order. */
    public static List<String> readValues(Path file) throws IOException {
        String content;
        try {
            content = Files.readString(file);
        } catch (CharacterCodingException e) {
            throw new IOException("not valid UTF-8", e);
        }
        // Split on '\n' alone: an empty line is the empty-string value, and '\r' is no separator.
        List<String> values = new ArrayList<>();
        int start = 0;
        while (start < content.length()) {
            int end = content.indexOf('\n', start);
            if (end < 0) {
                end = content.length();
            }
            values.add(content.substring(start, end));
            start = end + 1;
        }
        return values;
    }

    /** Missing ({@code null}) and unknown values share the OOV index. */
    public int indexOf(String value) {
        if (value == null) {
            return OOV_INDEX;
        }
        Integer index = indexByValue.get(value);
        if (index != null) {
            return index;
        }
        // Only values the bundle does not know pay for the second lookup, and only once a delta added values.
        return addedIndexByValue == null ? OOV_INDEX : addedIndexByValue.getOrDefault(value, OOV_INDEX);
    }

    /**
     * The value of an in-vocabulary index: {@code 1} is the first line of the file, which the trainer writes most
     * frequent first.
     *
     * @throws IndexOutOfBoundsException for the OOV index and beyond {@code size() - 1}
     */
    public String value(int index) {
        if (index == OOV_INDEX) {
            throw new IndexOutOfBoundsException("index 0 is the out-of-vocabulary row and has no value");
        }
        if (index > values.length) {
            return addedValues[index - values.length - 1];
        }
        return values[index - 1];
    }

    /** Counts the OOV row, like {@code vocabSize} in the manifest, and the values deltas added. */
    public long size() {
        return values.length + addedValues.length + 1L;
    }
}
