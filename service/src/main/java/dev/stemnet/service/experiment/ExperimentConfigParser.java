package dev.stemnet.service.experiment;

import dev.stemnet.service.experiment.ExperimentConfig.Arm;
import dev.stemnet.service.experiment.ExperimentConfig.Layer;
import dev.stemnet.service.experiment.ExperimentConfig.Shadow;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;
import org.yaml.snakeyaml.error.YAMLException;

/**
 * Reads and checks an experiment file. Everything that could make a split silently wrong is refused with the
 * layer, arm and key named: unknown keys (a typo must not fall back to a default), overlapping ranges, buckets
 * no arm covers (unless the layer names a {@code default} arm), percentages that do not add up or do not fall
 * on whole buckets, shared salts (two layers with one salt would split units identically), and more than one
 * layer choosing models (a request is scored by exactly one model). Shadows are checked alike: their own salt, their
 * share of buckets, the layer and arm they are limited to. Whether the models serve is checked by {@link Experiments}.
 */
final class ExperimentConfigParser {

    static final int MAX_BUCKETS = 1_000_000;
    private static final Set<String> TOP_KEYS = Set.of("version", "hash-seed", "layers", "shadows");
    private static final Set<String> LAYER_KEYS = Set.of("name", "salt", "buckets", "arms", "default");
    private static final Set<String> ARM_KEYS = Set.of("name", "model", "version", "ranges", "percent");
    private static final Set<String> SHADOW_KEYS = Set.of("name", "model", "salt", "buckets", "ranges", "percent",
            "layer", "arm");
    private static final BigDecimal HUNDRED = BigDecimal.valueOf(100);
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9_.-]+");

    private ExperimentConfigParser() {}

    static ExperimentConfig parse(String yaml) {
        Object document;
        try {
            document = new Yaml(new SafeConstructor(new LoaderOptions())).load(yaml);
        } catch (YAMLException e) {
            throw new InvalidExperimentConfigException("", "not valid YAML: " + e.getMessage());
        }
        Map<String, Object> top = map(document, "");
        checkKeys(top, TOP_KEYS, "");
        String version = top.containsKey("version") ? text(top.get("version"), "version") : contentVersion(yaml);
        int seed = top.containsKey("hash-seed") ? seed(top.get("hash-seed")) : 0;
        List<Object> layerNodes = top.containsKey("layers") ? list(top.get("layers"), "layers") : List.of();
        List<Object> shadowNodes = top.containsKey("shadows") ? list(top.get("shadows"), "shadows") : List.of();
        if (layerNodes.isEmpty() && shadowNodes.isEmpty()) {
            throw new InvalidExperimentConfigException("layers", "at least one layer or shadow is required");
        }
        List<Layer> layers = new ArrayList<>();
        Set<String> salts = new HashSet<>();
        for (int i = 0; i < layerNodes.size(); i++) {
            Layer layer = layer(map(layerNodes.get(i), "layers[" + i + "]"), i);
            String where = "layers[" + layer.name() + "]";
            if (layers.stream().anyMatch(other -> other.name().equals(layer.name()))) {
                throw new InvalidExperimentConfigException(where + ".name", "two layers are named '" + layer.name() + "'");
            }
            checkOwnSalt(salts, layer.salt(), where);
            if (layer.choosesModel() && layers.stream().anyMatch(Layer::choosesModel)) {
                throw new InvalidExperimentConfigException(where,
                        "only one layer may map arms to models (a request is scored by exactly one model)");
            }
            layers.add(layer);
        }
        List<Shadow> shadows = new ArrayList<>();
        for (int i = 0; i < shadowNodes.size(); i++) {
            Shadow shadow = shadow(map(shadowNodes.get(i), "shadows[" + i + "]"), i, layers);
            String where = "shadows[" + shadow.name() + "]";
            if (shadows.stream().anyMatch(other -> other.name().equals(shadow.name()))) {
                throw new InvalidExperimentConfigException(where + ".name", "two shadows are named '" + shadow.name() + "'");
            }
            checkOwnSalt(salts, shadow.salt(), where);
            shadows.add(shadow);
        }
        return new ExperimentConfig(version, seed, layers, shadows);
    }

    /** Two splits with one salt would put the same units in the same buckets: no longer independent. */
    private static void checkOwnSalt(Set<String> salts, String salt, String where) {
        if (!salts.add(salt)) {
            throw new InvalidExperimentConfigException(where + ".salt", "salt '" + salt + "' is used by another layer"
                    + " or shadow; each needs its own salt to split independently");
        }
    }

    private static Shadow shadow(Map<String, Object> node, int index, List<Layer> layers) {
        String name = name(node.get("name"), "shadows[" + index + "].name");
        String where = "shadows[" + name + "]";
        checkKeys(node, SHADOW_KEYS, where);
        String model = text(node.get("model"), where + ".model");
        String salt = text(node.get("salt"), where + ".salt");
        int buckets = integer(node.get("buckets"), where + ".buckets");
        if (buckets < 1 || buckets > MAX_BUCKETS) {
            throw new InvalidExperimentConfigException(where + ".buckets", "must be between 1 and " + MAX_BUCKETS);
        }
        // The shadowed buckets, claimed as an arm's would be.
        Arm shadowed = new Arm(name, model, null);
        Arm[] owners = new Arm[buckets];
        boolean hasRanges = node.containsKey("ranges");
        if (hasRanges == node.containsKey("percent")) {
            throw new InvalidExperimentConfigException(where, "give exactly one of 'ranges' and 'percent'");
        }
        if (hasRanges) {
            for (Object range : rangeNodes(node.get("ranges"), where + ".ranges")) {
                claim(owners, range, shadowed, where + ".ranges");
            }
        } else {
            Arrays.fill(owners, 0, percentBuckets(node.get("percent"), buckets, where + ".percent"), shadowed);
        }
        String layer = node.containsKey("layer") ? text(node.get("layer"), where + ".layer") : null;
        String arm = node.containsKey("arm") ? text(node.get("arm"), where + ".arm") : null;
        if ((layer == null) != (arm == null)) {
            throw new InvalidExperimentConfigException(where, "'layer' and 'arm' go together: the units of one arm");
        }
        if (layer != null) {
            Layer limitedTo = layers.stream().filter(l -> l.name().equals(layer)).findFirst()
                    .orElseThrow(() -> new InvalidExperimentConfigException(where + ".layer",
                            "no layer is named '" + layer + "'"));
            if (limitedTo.arm(arm).isEmpty()) {
                throw new InvalidExperimentConfigException(where + ".arm",
                        "layer '" + layer + "' has no arm '" + arm + "'");
            }
        }
        return new Shadow(name, model, salt, buckets, Arrays.stream(owners).map(owner -> owner != null).toList(),
                layer, arm);
    }

    private static Layer layer(Map<String, Object> node, int index) {
        String name = name(node.get("name"), "layers[" + index + "].name");
        String where = "layers[" + name + "]";
        checkKeys(node, LAYER_KEYS, where);
        String salt = text(node.get("salt"), where + ".salt");
        int buckets = integer(node.get("buckets"), where + ".buckets");
        if (buckets < 1 || buckets > MAX_BUCKETS) {
            throw new InvalidExperimentConfigException(where + ".buckets", "must be between 1 and " + MAX_BUCKETS);
        }
        List<Object> armNodes = list(node.get("arms"), where + ".arms");
        if (armNodes.isEmpty()) {
            throw new InvalidExperimentConfigException(where + ".arms", "at least one arm is required");
        }
        List<Arm> arms = new ArrayList<>();
        Arm[] armByBucket = new Arm[buckets];
        int nextPercentBucket = 0;
        Boolean byPercent = null;
        for (int i = 0; i < armNodes.size(); i++) {
            Map<String, Object> armNode = map(armNodes.get(i), where + ".arms[" + i + "]");
            String armName = name(armNode.get("name"), where + ".arms[" + i + "].name");
            String armWhere = where + ".arms[" + armName + "]";
            checkKeys(armNode, ARM_KEYS, armWhere);
            if (arms.stream().anyMatch(arm -> arm.name().equals(armName))) {
                throw new InvalidExperimentConfigException(armWhere + ".name", "two arms are named '" + armName + "'");
            }
            String model = armNode.containsKey("model") ? text(armNode.get("model"), armWhere + ".model") : null;
            String version = armNode.containsKey("version") ? text(armNode.get("version"), armWhere + ".version") : null;
            if (version != null && model == null) {
                throw new InvalidExperimentConfigException(armWhere + ".version", "a version needs a model");
            }
            if (!arms.isEmpty() && (model == null) != (arms.get(0).model() == null)) {
                throw new InvalidExperimentConfigException(armWhere + ".model",
                        "either every arm of a layer names a model or none does");
            }
            Arm arm = new Arm(armName, model, version);
            arms.add(arm);
            boolean hasRanges = armNode.containsKey("ranges");
            boolean hasPercent = armNode.containsKey("percent");
            if (hasRanges == hasPercent) {
                throw new InvalidExperimentConfigException(armWhere, "give exactly one of 'ranges' and 'percent'");
            }
            if (byPercent != null && byPercent != hasPercent) {
                throw new InvalidExperimentConfigException(armWhere,
                        "all arms of a layer use 'ranges' or all use 'percent', not both");
            }
            byPercent = hasPercent;
            if (hasPercent) {
                int count = percentBuckets(armNode.get("percent"), buckets, armWhere + ".percent");
                if (nextPercentBucket + count > buckets) {
                    throw new InvalidExperimentConfigException(armWhere + ".percent",
                            "the percentages of layer '" + name + "' add up to more than 100");
                }
                Arrays.fill(armByBucket, nextPercentBucket, nextPercentBucket + count, arm);
                nextPercentBucket += count;
            } else {
                for (Object range : rangeNodes(armNode.get("ranges"), armWhere + ".ranges")) {
                    claim(armByBucket, range, arm, armWhere + ".ranges");
                }
            }
        }
        fillGaps(node, where, name, arms, armByBucket, Boolean.TRUE.equals(byPercent));
        return new Layer(name, salt, buckets, arms, Arrays.asList(armByBucket));
    }

    /** Buckets no arm claimed go to the {@code default} arm; without one they are refused. */
    private static void fillGaps(Map<String, Object> node, String where, String name, List<Arm> arms,
            Arm[] armByBucket, boolean byPercent) {
        Arm defaultArm = null;
        if (node.containsKey("default")) {
            String defaultName = text(node.get("default"), where + ".default");
            defaultArm = arms.stream().filter(arm -> arm.name().equals(defaultName)).findFirst()
                    .orElseThrow(() -> new InvalidExperimentConfigException(where + ".default",
                            "no arm is named '" + defaultName + "'"));
        }
        for (int bucket = 0; bucket < armByBucket.length; bucket++) {
            if (armByBucket[bucket] != null) {
                continue;
            }
            if (defaultArm == null) {
                int end = bucket;
                while (end + 1 < armByBucket.length && armByBucket[end + 1] == null) {
                    end++;
                }
                throw new InvalidExperimentConfigException(where, byPercent
                        ? "the percentages of layer '" + name + "' add up to less than 100 (buckets " + bucket + "-" + end
                                + " are left); make them add up to 100 or declare 'default: <arm>'"
                        : "buckets " + bucket + "-" + end + " belong to no arm; cover them or declare 'default: <arm>'");
            }
            armByBucket[bucket] = defaultArm;
        }
    }

    private static void claim(Arm[] armByBucket, Object rangeNode, Arm arm, String where) {
        String range = String.valueOf(rangeNode).trim();
        int dash = range.indexOf('-');
        int from;
        int to;
        try {
            from = Integer.parseInt(dash < 0 ? range : range.substring(0, dash).trim());
            to = Integer.parseInt(dash < 0 ? range : range.substring(dash + 1).trim());
        } catch (NumberFormatException e) {
            throw new InvalidExperimentConfigException(where, "'" + range + "' is not a bucket or an inclusive range like '0-499'");
        }
        if (from < 0 || to < from || to >= armByBucket.length) {
            throw new InvalidExperimentConfigException(where,
                    "'" + range + "' is not a range within 0-" + (armByBucket.length - 1));
        }
        for (int bucket = from; bucket <= to; bucket++) {
            if (armByBucket[bucket] != null) {
                throw new InvalidExperimentConfigException(where,
                        "'" + range + "' overlaps arm '" + armByBucket[bucket].name() + "' at bucket " + bucket);
            }
            armByBucket[bucket] = arm;
        }
    }

    private static int percentBuckets(Object value, int buckets, String where) {
        BigDecimal percent;
        try {
            percent = new BigDecimal(String.valueOf(value).trim());
        } catch (NumberFormatException e) {
            throw new InvalidExperimentConfigException(where, "'" + value + "' is not a number");
        }
        if (percent.signum() <= 0 || percent.compareTo(HUNDRED) > 0) {
            throw new InvalidExperimentConfigException(where, "must be more than 0 and at most 100");
        }
        BigDecimal count = percent.multiply(BigDecimal.valueOf(buckets)).divide(HUNDRED);
        if (count.stripTrailingZeros().scale() > 0) {
            throw new InvalidExperimentConfigException(where,
                    percent.toPlainString() + "% of " + buckets + " buckets is not a whole number of buckets");
        }
        return count.intValueExact();
    }

    private static List<Object> rangeNodes(Object node, String where) {
        if (node instanceof List<?> ranges && !ranges.isEmpty()) {
            return List.copyOf(ranges);
        }
        if (node instanceof String || node instanceof Integer) {
            return List.of(node);
        }
        throw new InvalidExperimentConfigException(where, "a range like '0-499' or a non-empty list of them is required");
    }

    private static void checkKeys(Map<String, Object> node, Set<String> known, String where) {
        for (String key : node.keySet()) {
            if (!known.contains(key)) {
                throw new InvalidExperimentConfigException(where.isEmpty() ? key : where + "." + key,
                        "unknown key; known keys: " + known.stream().sorted().toList());
            }
        }
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> map(Object node, String where) {
        if (node instanceof Map<?, ?> map && map.keySet().stream().allMatch(String.class::isInstance)) {
            return (Map<String, Object>) map;
        }
        throw new InvalidExperimentConfigException(where, "a mapping of keys to values is required");
    }

    @SuppressWarnings("unchecked")
    private static List<Object> list(Object node, String where) {
        if (node instanceof List<?> list) {
            return (List<Object>) list;
        }
        throw new InvalidExperimentConfigException(where, "a list is required");
    }

    private static String text(Object node, String where) {
        if (node == null || node instanceof Map || node instanceof List || node.toString().isBlank()) {
            throw new InvalidExperimentConfigException(where, "a non-blank value is required");
        }
        return node.toString().trim();
    }

    /** Names become metric labels and appear in the force header, hence the plain alphabet. */
    private static String name(Object node, String where) {
        String name = text(node, where);
        if (!NAME.matcher(name).matches()) {
            throw new InvalidExperimentConfigException(where, "'" + name + "' may only hold letters, digits, '_', '.' and '-'");
        }
        return name;
    }

    /** Seeds are unsigned 32-bit values in most write-ups, e.g. 0x9747b28c; both readings are accepted. */
    private static int seed(Object node) {
        if (node instanceof Number number && !(node instanceof Double)
                && number.longValue() >= Integer.MIN_VALUE && number.longValue() <= 0xffffffffL) {
            return (int) number.longValue();
        }
        throw new InvalidExperimentConfigException("hash-seed", "a 32-bit integer is required, not '" + node + "'");
    }

    private static int integer(Object node, String where) {
        if (node instanceof Integer value) {
            return value;
        }
        throw new InvalidExperimentConfigException(where, "an integer is required, not '" + node + "'");
    }

    /** Identical files have identical versions on every replica, whatever their path or modification time. */
    private static String contentVersion(String yaml) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(yaml.getBytes(StandardCharsets.UTF_8));
            return "sha256:" + HexFormat.of().formatHex(digest).substring(0, 12);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JVM", e);
        }
    }
}
