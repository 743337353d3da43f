package dev.stemnet.service.scoring;

import java.util.AbstractMap;
import java.util.AbstractSet;
import java.util.Iterator;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Set;
import java.util.function.BiConsumer;
import tools.jackson.core.JsonGenerator;
import tools.jackson.databind.SerializationContext;
import tools.jackson.databind.ValueSerializer;
import tools.jackson.databind.annotation.JsonSerialize;

/**
 * One candidate's probabilities by task, as an unmodifiable map in manifest order over the network's own output
 * row: a response of 200 candidates would otherwise build 200 maps and 600 boxed doubles only to write them out.
 * Each value is the model's float32 widened to a double. {@link #forEach} walks the arrays; JSON writes it as an
 * object of numbers without going through the map at all, each the float itself: the shortest decimal that reads
 * back to that float32 (with {@code StreamWriteFeature.USE_FAST_DOUBLE_WRITER}, as the service writes), about half
 * the characters of the widened double's 17 digits.
 */
@JsonSerialize(using = TaskScores.Writer.class)
public final class TaskScores extends AbstractMap<String, Double> {

    private final String[] tasks;
    private final int[] columns;
    private final float[] probabilities;

    /**
     * @param tasks         the names of the tasks kept, in manifest order; shared by every candidate of a request
     * @param columns       for each kept task, its column in {@code probabilities}
     * @param probabilities the network's output row for the candidate, one column per task of the model
     */
    TaskScores(String[] tasks, int[] columns, float[] probabilities) {
        this.tasks = tasks;
        this.columns = columns;
        this.probabilities = probabilities;
    }

    String task(int i) {
        return tasks[i];
    }

    double score(int i) {
        return probabilities[columns[i]];
    }

    @Override
    public int size() {
        return tasks.length;
    }

    @Override
    public boolean containsKey(Object key) {
        return indexOf(key) >= 0;
    }

    @Override
    public Double get(Object key) {
        int i = indexOf(key);
        return i < 0 ? null : score(i);
    }

    @Override
    public void forEach(BiConsumer<? super String, ? super Double> action) {
        for (int i = 0; i < tasks.length; i++) {
            action.accept(tasks[i], score(i));
        }
    }

    @Override
    public Set<Map.Entry<String, Double>> entrySet() {
        return new AbstractSet<>() {
            @Override
            public Iterator<Map.Entry<String, Double>> iterator() {
                return new Iterator<>() {
                    private int next;

                    @Override
                    public boolean hasNext() {
                        return next < tasks.length;
                    }

                    @Override
                    public Map.Entry<String, Double> next() {
                        if (next >= tasks.length) {
                            throw new NoSuchElementException();
                        }
                        int i = next++;
                        return new SimpleImmutableEntry<>(tasks[i], score(i));
                    }
                };
            }

            @Override
            public int size() {
                return tasks.length;
            }
        };
    }

    private int indexOf(Object key) {
        for (int i = 0; i < tasks.length; i++) {
            if (tasks[i].equals(key)) {
                return i;
            }
        }
        return -1;
    }

    /** Writes {@code {"task": score, ...}} straight from the arrays, each score as the float it is. */
    static final class Writer extends ValueSerializer<TaskScores> {

        @Override
        public void serialize(TaskScores scores, JsonGenerator generator, SerializationContext context) {
            generator.writeStartObject(scores);
            for (int i = 0; i < scores.tasks.length; i++) {
                generator.writeName(scores.tasks[i]);
                generator.writeNumber(scores.probabilities[scores.columns[i]]);
            }
            generator.writeEndObject();
        }
    }
}
