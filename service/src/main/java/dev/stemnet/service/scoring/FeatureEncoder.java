package dev.stemnet.service.scoring;

import dev.stemnet.service.bundle.Manifest;
import dev.stemnet.service.bundle.Manifest.FieldSpec;
import dev.stemnet.service.bundle.Manifest.Side;
import dev.stemnet.service.bundle.Manifest.TableField;
import dev.stemnet.service.bundle.Manifest.TableSpec;
import dev.stemnet.service.bundle.ModelBundle;
import dev.stemnet.service.bundle.Vocabulary;
import dev.stemnet.service.scoring.ScoreRequest.Candidate;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.stream.IntStream;

/**
 * Turns a request's raw values into embedding table rows: value -> vocabulary index (0 when unknown, and when
 * missing unless the bundle makes missing a value of its own, {@code missingValue}) -> {@code rowOffset + index}.
 * User and context values are looked up once per request, item values per candidate. The result holds, per table,
 * one row per (candidate, field) slot in the layout of the network's input {@code [batch, F_table]}. Unknown feature
 * names are refused or ignored as the {@link UnknownFeaturePolicy} says; either way they, missing values and values
 * the vocabulary does not have are counted in the request's {@link FeatureIssues}. A request looks each distinct value of a field
 * up once ({@link RequestVocabulary}).
 *
 * <p>After deltas a field's vocabulary has values past the bundle's ({@code vocabSize} and on); their rows were
 * appended to the end of each table, not at {@code rowOffset + index}. Only a table with such rows takes the slower
 * loop that looks them up; a model without deltas encodes as before.
 */
final class FeatureEncoder {

    private final String userIdField;
    private final String itemIdField;
    private final List<FieldSpec> fields;
    private final Vocabulary[] vocabularies;
    private final Map<String, Integer> positionByField = new HashMap<>();
    private final SideFields userFields;
    private final SideFields itemFields;
    private final SideFields contextFields;
    /** What a missing value is looked up as: the bundle's {@code missingValue}, or null (the OOV row). */
    private final String missingValue;
    private final List<TableLayout> tables;
    private final UnknownFeaturePolicy unknownFeaturePolicy;

    /**
     * A table's fields as positions into {@link #fields}, with the row offset of each, the size of its bundle
     * vocabulary and the rows of its added indices ({@code appendedRows[j][index - baseSizes[j]]}); null when no
     * field of the table has added values.
     */
    private record TableLayout(int[] fieldPositions, long[] rowOffsets, long[] baseSizes, long[][] appendedRows) {

        long row(int j, int index) {
            long added = index - baseSizes[j];
            return added < 0 ? rowOffsets[j] + index : appendedRows[j][(int) added];
        }
    }

    /** One side's fields as positions into {@link #fields}, and the position of its id field (-1: none). */
    private record SideFields(int[] positions, int idPosition) {}

    /** The bundle as exported, without deltas. */
    FeatureEncoder(ModelBundle bundle, UnknownFeaturePolicy unknownFeaturePolicy) {
        this(bundle.manifest(), bundle.vocabularies(), Map.of(), unknownFeaturePolicy);
    }

    /**
     * @param vocabularies by field, with the values deltas added
     * @param appendedRows by table and field: the row of each added index, in index order
     */
    FeatureEncoder(Manifest manifest, Map<String, Vocabulary> vocabularies, Map<String, Map<String, long[]>> appendedRows,
            UnknownFeaturePolicy unknownFeaturePolicy) {
        this.unknownFeaturePolicy = unknownFeaturePolicy;
        this.userIdField = manifest.userIdField();
        this.itemIdField = manifest.itemIdField();
        this.missingValue = manifest.missingValue();
        this.fields = manifest.fields();
        this.vocabularies = new Vocabulary[fields.size()];
        for (int p = 0; p < fields.size(); p++) {
            positionByField.put(fields.get(p).name(), p);
            this.vocabularies[p] = vocabularies.get(fields.get(p).name());
        }
        this.userFields = sideFields(Side.USER);
        this.itemFields = sideFields(Side.ITEM);
        this.contextFields = sideFields(Side.CONTEXT);
        this.tables = manifest.tables().stream()
                .map(table -> layout(table, appendedRows.getOrDefault(table.name(), Map.of())))
                .toList();
    }

    private SideFields sideFields(Side side) {
        int[] positions = IntStream.range(0, fields.size()).filter(p -> fields.get(p).side() == side).toArray();
        int idPosition = IntStream.of(positions).filter(p -> fields.get(p).name().equals(idField(side))).findFirst()
                .orElse(-1);
        return new SideFields(positions, idPosition);
    }

    private TableLayout layout(TableSpec table, Map<String, long[]> appended) {
        int[] positions = table.fields().stream().mapToInt(f -> positionByField.get(f.name())).toArray();
        long[] rowOffsets = table.fields().stream().mapToLong(TableField::rowOffset).toArray();
        long[] baseSizes = IntStream.of(positions).mapToLong(p -> fields.get(p).vocabSize()).toArray();
        long[][] appendedRows = appended.isEmpty() ? null
                : table.fields().stream().map(f -> appended.getOrDefault(f.name(), new long[0])).toArray(long[][]::new);
        return new TableLayout(positions, rowOffsets, baseSizes, appendedRows);
    }

    /**
     * @return per table in manifest order, {@code batch * F_table} rows: candidate {@code b}'s row for the
     *         table's field {@code j} at {@code b * F_table + j}
     * @throws InvalidRequestException when a feature is not a field of its side and the policy is REJECT
     */
    long[][] encode(ScoreRequest request, FeatureIssues issues) {
        List<Candidate> candidates = request.candidates();
        RequestVocabulary[] requestVocabularies = new RequestVocabulary[fields.size()];
        for (int p = 0; p < fields.size(); p++) {
            requestVocabularies[p] = new RequestVocabulary(vocabularies[p],
                    fields.get(p).side() == Side.ITEM ? candidates.size() : 1);
        }
        checkFeatureNames(-1, request.userFeatures(), Side.USER, issues);
        checkFeatureNames(-1, request.contextFeatures(), Side.CONTEXT, issues);
        // The user's and the context's indices are the same for every candidate; only the item fields are written
        // per candidate.
        int[] indices = new int[fields.size()];
        writeIndices(userFields, request.userId(), request.userFeatures(), requestVocabularies, indices, issues);
        writeIndices(contextFields, null, request.contextFeatures(), requestVocabularies, indices, issues);

        long[][] rowsByTable = new long[tables.size()][];
        for (int t = 0; t < tables.size(); t++) {
            rowsByTable[t] = new long[candidates.size() * tables.get(t).fieldPositions.length];
        }
        for (int b = 0; b < candidates.size(); b++) {
            Candidate candidate = candidates.get(b);
            checkFeatureNames(b, candidate.features(), Side.ITEM, issues);
            writeIndices(itemFields, candidate.itemId(), candidate.features(), requestVocabularies, indices, issues);
            for (int t = 0; t < tables.size(); t++) {
                TableLayout table = tables.get(t);
                int width = table.fieldPositions.length;
                if (table.appendedRows == null) {
                    for (int j = 0; j < width; j++) {
                        rowsByTable[t][b * width + j] = table.rowOffsets[j] + indices[table.fieldPositions[j]];
                    }
                } else {
                    for (int j = 0; j < width; j++) {
                        rowsByTable[t][b * width + j] = table.row(j, indices[table.fieldPositions[j]]);
                    }
                }
            }
        }
        return rowsByTable;
    }

    /**
     * Writes the vocabulary index of every field of {@code side} into {@code indices}, by field position, and counts
     * each missing or unknown value it meets: every occurrence, repeats included.
     */
    private void writeIndices(SideFields side, String id, Map<String, String> features,
            RequestVocabulary[] requestVocabularies, int[] indices, FeatureIssues issues) {
        for (int p : side.positions) {
            String name = fields.get(p).name();
            String value = p == side.idPosition ? id : features.get(name);
            indices[p] = requestVocabularies[p].indexOf(value == null ? missingValue : value);
            if (value == null) {
                issues.missingValue(name);
            } else if (indices[p] == Vocabulary.OOV_INDEX) {
                issues.unknownValue(name);
            }
        }
    }

    /** @param candidate the candidate's position, or -1 for the user's and the context's features; named in an error */
    private void checkFeatureNames(int candidate, Map<String, String> features, Side side, FeatureIssues issues) {
        for (String name : features.keySet()) {
            String reason = null;
            if (name.equals(idField(side))) {
                reason = "the " + sideName(side) + " id field comes from " + (side == Side.USER ? "userId" : "itemId");
            } else if (positionByField.get(name) == null || fields.get(positionByField.get(name)).side() != side) {
                reason = "not one of the model's " + sideName(side) + " fields " + featureNames(side);
            }
            if (reason != null) {
                issues.unknownFeature(positionByField.containsKey(name) ? name : FeatureIssues.OTHER_FEATURE);
                if (unknownFeaturePolicy == UnknownFeaturePolicy.REJECT) {
                    String path = candidate >= 0 ? "candidates[" + candidate + "].features"
                            : side == Side.USER ? "userFeatures" : "contextFeatures";
                    throw new InvalidRequestException(path + "." + ClientValues.echo(name), reason);
                }
            }
        }
    }

    private static String sideName(Side side) {
        return side.name().toLowerCase();
    }

    /** The names a request may use as features of {@code side}: its fields except the id field. */
    private TreeSet<String> featureNames(Side side) {
        TreeSet<String> names = new TreeSet<>();
        fields.stream()
                .filter(field -> field.side() == side && !field.name().equals(idField(side)))
                .forEach(field -> names.add(field.name()));
        return names;
    }

    /** The side's id field; the context has none. */
    private String idField(Side side) {
        return switch (side) {
            case USER -> userIdField;
            case ITEM -> itemIdField;
            case CONTEXT -> null;
        };
    }
}
