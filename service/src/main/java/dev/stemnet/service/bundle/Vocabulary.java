package dev.stemnet.service.bundle;

import java.io.IOException;
import java.nio.charset.CharacterCodingException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** One field's values in index order; index 0 is the out-of-vocabulary row. */
public final class Vocabulary {

    public static final int OOV_INDEX = 0;

    private final Map<String, Integer> indexByValue;
    /** {@code values[i]} has index {@code i + 1}; the same strings as the map's keys. */
    private final String[] values;

    private Vocabulary(Map<String, Integer> indexByValue, String[] values) {
        this.indexByValue = indexByValue;
        this.values = values;
    }

    /** @param values the in-vocabulary values; {@code values.get(i)} gets index {@code i + 1} */
    public static Vocabulary of(List<String> values) {
        Map<String, Integer> indexByValue = new HashMap<>(values.size() * 2);
        for (int i = 0; i < values.size(); i++) {
            if (indexByValue.putIfAbsent(values.get(i), i + 1) != null) {
                throw new IllegalArgumentException("value '" + values.get(i) + "' appears twice");
            }
        }
        return new Vocabulary(indexByValue, values.toArray(String[]::new));
    }

    /** Reads {@code vocab/<field>.txt}: UTF-8, one value per line, each line ended by '\n'. */
    static Vocabulary read(Path file) throws IOException {
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
        return of(values);
    }

    /** Missing ({@code null}) and unknown values share the OOV index. */
    public int indexOf(String value) {
        return value == null ? OOV_INDEX : indexByValue.getOrDefault(value, OOV_INDEX);
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
        return values[index - 1];
    }

    /** Counts the OOV row, like {@code vocabSize} in the manifest. */
    public long size() {
        return indexByValue.size() + 1L;
    }
}
