package dev.stemnet.loadtest;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The fields of a bundle (docs/bundle-format.md) with their vocabularies: {@code manifest.json} says which
 * fields are user-side and item-side and which are the id fields; {@code vocab/<field>.txt} lists each
 * field's values, most frequent first.
 */
public record BundleVocabulary(String userIdField, String itemIdField, List<Field> userFields,
        List<Field> itemFields) {

    /** One field and its known values, most frequent first. */
    public record Field(String name, List<String> values) {}

    public static BundleVocabulary read(Path bundleDir) {
        try {
            JsonNode manifest = new ObjectMapper().readTree(bundleDir.resolve("manifest.json").toFile());
            String userIdField = manifest.get("userIdField").asText();
            String itemIdField = manifest.get("itemIdField").asText();
            List<Field> user = new ArrayList<>();
            List<Field> item = new ArrayList<>();
            for (JsonNode field : manifest.get("fields")) {
                String name = field.get("name").asText();
                List<String> values = Files.readAllLines(bundleDir.resolve(field.get("vocabulary").asText())).stream()
                        .filter(line -> !line.isEmpty())
                        .toList();
                if (values.isEmpty()) {
                    throw new IllegalArgumentException("vocabulary of '" + name + "' in " + bundleDir + " is empty");
                }
                ("user".equals(field.get("side").asText()) ? user : item).add(new Field(name, values));
            }
            return new BundleVocabulary(userIdField, itemIdField, List.copyOf(user), List.copyOf(item));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the bundle in " + bundleDir
                    + " (set -Dstem.bundle.dir to a bundle directory with manifest.json and vocab/)", e);
        }
    }

    public Field userIdValues() {
        return userFields.stream().filter(f -> f.name().equals(userIdField)).findFirst().orElseThrow();
    }

    public Field itemIdValues() {
        return itemFields.stream().filter(f -> f.name().equals(itemIdField)).findFirst().orElseThrow();
    }
}
