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
public record ExperimentConfig(String version, int hashSeed, List<Layer> layers) {

    public ExperimentConfig {
        layers = List.copyOf(layers);
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
        byte[] key = (layer.salt() + ":" + unitId).getBytes(StandardCharsets.UTF_8);
        return (int) (Integer.toUnsignedLong(Murmur3.hash32(key, hashSeed)) % layer.buckets());
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
}
