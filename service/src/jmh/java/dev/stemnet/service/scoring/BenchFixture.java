package dev.stemnet.service.scoring;

import ai.onnxruntime.OrtSession.SessionOptions.OptLevel;
import com.fasterxml.jackson.annotation.JsonInclude;
import dev.stemnet.service.bundle.BundleLoader;
import dev.stemnet.service.bundle.Manifest.FieldSpec;
import dev.stemnet.service.bundle.Manifest.Side;
import dev.stemnet.service.bundle.ModelBundle;
import dev.stemnet.service.embedding.CacheSettings;
import dev.stemnet.service.embedding.CachingEmbeddingStore;
import dev.stemnet.service.embedding.EmbeddingStore;
import dev.stemnet.service.embedding.MappedFileEmbeddingStore;
import dev.stemnet.service.inference.DeviceMode;
import dev.stemnet.service.inference.DeviceSelector;
import dev.stemnet.service.inference.OnnxModel;
import dev.stemnet.service.inference.RuntimeSettings;
import dev.stemnet.service.scoring.ScoreRequest.Candidate;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import jakarta.validation.Validation;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SplittableRandom;
import tools.jackson.databind.json.JsonMapper;

/**
 * What the benchmarks share: a bundle ({@code -Dstem.bench.bundle-dir}, default the paper-sized
 * {@code build/bench-bundles/stem-net} of {@code make bench-bundle}), the service's own scoring pieces built
 * the way {@code ModelLoader} builds them (CPU, 1 intra-op thread, ALL_OPT), and one request of
 * {@code -Dstem.bench.candidates} (200) distinct candidates, Zipf-popular ids from the bundle's vocabularies.
 */
public final class BenchFixture implements AutoCloseable {

    public static final String BUNDLE_PROPERTY = "stem.bench.bundle-dir";
    private static final JsonMapper REQUEST_WRITER = JsonMapper.builder()
            .changeDefaultPropertyInclusion(inclusion -> inclusion.withValueInclusion(JsonInclude.Include.NON_EMPTY))
            .build();

    public final ModelBundle bundle;
    public final OnnxModel network;
    public final MappedFileEmbeddingStore mapped;
    public final CachingEmbeddingStore cached;
    public final Scorer scorer;
    public final ScoreRequest request;

    public BenchFixture(int candidates, long cacheRowsPerTable) {
        Path dir = bundleDir();
        bundle = new BundleLoader(Validation.buildDefaultValidatorFactory().getValidator()).load(dir);
        network = OnnxModel.open(bundle.file(bundle.manifest().onnx().file()), bundle.manifest().onnx(),
                new RuntimeSettings(DeviceMode.CPU, 1, OptLevel.ALL_OPT),
                new DeviceSelector(() -> Optional.of("benchmark: CPU only")));
        mapped = new MappedFileEmbeddingStore(bundle.manifest().tables(), table -> bundle.file(table.file()));
        cached = new CachingEmbeddingStore(mapped, bundle.manifest().tables(),
                new CacheSettings(cacheRowsPerTable, Map.of()), new SimpleMeterRegistry(), Tags.empty());
        // As the service with its default store: the mapped files, no row cache in front.
        scorer = new Scorer(bundle, mapped, network, UnknownFeaturePolicy.REJECT);
        request = request(bundle, candidates, 42);
    }

    public static Path bundleDir() {
        Path dir = Path.of(System.getProperty(BUNDLE_PROPERTY, "../build/bench-bundles/stem-net")).toAbsolutePath();
        if (!Files.isRegularFile(dir.resolve("manifest.json"))) {
            throw new IllegalStateException("no bundle at " + dir + "; build one with `make bench-bundle` or set -D"
                    + BUNDLE_PROPERTY);
        }
        return dir;
    }

    /** One user and {@code candidates} distinct ads, ids Zipf-drawn (exponent 1.1) from the vocabularies. */
    public static ScoreRequest request(ModelBundle bundle, int candidates, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        var manifest = bundle.manifest();
        Map<String, List<String>> values = new HashMap<>();
        for (FieldSpec field : manifest.fields()) {
            try {
                values.put(field.name(), Files.readAllLines(bundle.file(field.vocabulary())));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        String userId = zipf(values.get(manifest.userIdField()), random);
        Map<String, String> userFeatures = features(manifest.fields(), Side.USER, manifest.userIdField(), values, random);
        LinkedHashSet<String> itemIds = new LinkedHashSet<>();
        while (itemIds.size() < candidates) {
            itemIds.add(itemIds.size() >= values.get(manifest.itemIdField()).size() / 2
                    ? "a_unseen_" + itemIds.size() : zipf(values.get(manifest.itemIdField()), random));
        }
        List<Candidate> list = new ArrayList<>();
        for (String itemId : itemIds) {
            list.add(new Candidate(itemId, features(manifest.fields(), Side.ITEM, manifest.itemIdField(), values,
                    new SplittableRandom(itemId.hashCode()))));
        }
        return new ScoreRequest("bench", null, userId, userFeatures, list, null);
    }

    /** The request as the API takes it; empty maps and absent values left out, as a caller would. */
    public static String json(ScoreRequest request) {
        return REQUEST_WRITER.writeValueAsString(request);
    }

    private static Map<String, String> features(List<FieldSpec> fields, Side side, String idField,
            Map<String, List<String>> values, SplittableRandom random) {
        Map<String, String> features = new HashMap<>();
        for (FieldSpec field : fields) {
            if (field.side() == side && !field.name().equals(idField)) {
                features.put(field.name(), zipf(values.get(field.name()), random));
            }
        }
        return features;
    }

    private static String zipf(List<String> values, SplittableRandom random) {
        // Inverse CDF of a continuous Zipf(1.1) approximation; good enough for a fixed benchmark request.
        double u = random.nextDouble();
        int rank = (int) Math.min(values.size() - 1, Math.floor(Math.pow(values.size(), u) - 1));
        return values.get(Math.max(0, rank));
    }

    /** The encoded rows of the request, per table, as the scorer computes them. */
    public long[][] encode() {
        return new FeatureEncoder(bundle, UnknownFeaturePolicy.REJECT).encode(request, new FeatureIssues());
    }

    public EmbeddingStore store(boolean cache) {
        return cache ? cached : mapped;
    }

    @Override
    public void close() {
        cached.close();
        network.close();
    }
}
