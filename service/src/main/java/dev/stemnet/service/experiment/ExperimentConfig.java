package dev.stemnet.service.experiment;

import com.fasterxml.jackson.annotation.JsonIgnore;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Optional;

/**
 * A validated experiment configuration: independent layers, each splitting units into a fixed number of buckets
 * by its own salt. At most one layer (the model layer) maps its arms to models; that layer decides which model
 * scores a request. The other layers only label units for analysis.
 *
 * @param version  the {@code version:} key, or {@code sha256:<first 12 hex>} of the file when it has none
 * @param hashSeed the MurmurHash3 seed
 */
public record ExperimentConfig(String version, int hashSeed, List<Layer> layers, List<Shadow> shadows) {

    public ExperimentConfig {
        layers = List.copyOf(layers);
        shadows = List.copyOf(shadows);
    }

    /** The layer whose arms choose the model, if any. */
    public Optional<Layer> modelLayer() {
        return layers.stream().filter(Layer::choosesModel).findFirst();
    }

    public Optional<Layer> layer(String name) {
        return layers.stream().filter(layer -> layer.name().equals(name)).findFirst();
    }

    /** {@code unsigned(murmur3_x86_32(utf8(salt + ":" + unitId), seed)) mod buckets}. */
    public int bucket(Layer layer, String unitId) {
        return bucket(layer.salt(), layer.buckets(), unitId);
    }

    /** Whether the unit falls in the shadow's share of buckets, under the shadow's own salt. */
    public boolean shadows(Shadow shadow, String unitId) {
        return shadow.shadowedBuckets().get(bucket(shadow.salt(), shadow.buckets(), unitId));
    }

    private int bucket(String salt, int buckets, String unitId) {
        byte[] key = (salt + ":" + unitId).getBytes(StandardCharsets.UTF_8);
        return (int) (Integer.toUnsignedLong(Murmur3.hash32(key, hashSeed)) % buckets);
    }

    /**
     * @param model   the model this arm's units are scored with; {@code null} outside the model layer
     * @param version the model version the arm is pinned to; {@code null} for whichever version serves
     */
    public record Arm(String name, String model, String version) {}

    /** @param armByBucket the arm of every bucket, the default arm filling the buckets no range covers */
    public record Layer(String name, String salt, int buckets, List<Arm> arms, @JsonIgnore List<Arm> armByBucket) {

        public Layer {
            arms = List.copyOf(arms);
            armByBucket = List.copyOf(armByBucket);
        }

        public boolean choosesModel() {
            return arms.get(0).model() != null;
        }

        public Arm armOf(int bucket) {
            return armByBucket.get(bucket);
        }

        public Optional<Arm> arm(String name) {
            return arms.stream().filter(arm -> arm.name().equals(name)).findFirst();
        }
    }

    /**
     * A candidate model scored on the side for a share of units: the serving model answers, the shadow's scores only
     * reach the exposure log and the metrics.
     *
     * @param shadowedBuckets the buckets whose units are shadowed
     * @param layer           with {@code arm}: only units in that arm of that layer; {@code null} for every unit
     */
    public record Shadow(String name, String model, String salt, int buckets, @JsonIgnore List<Boolean> shadowedBuckets,
            String layer, String arm) {

        public Shadow {
            shadowedBuckets = List.copyOf(shadowedBuckets);
        }
    }
}
