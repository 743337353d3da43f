package dev.stemnet.service.bundle;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.stemnet.service.TestBundle;
import dev.stemnet.service.bundle.Manifest.FieldSpec;
import jakarta.validation.Validation;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

class BundleLoaderTest {

    private static final JsonMapper JSON = JsonMapper.builder().build();

    private final BundleLoader loader = new BundleLoader(Validation.buildDefaultValidatorFactory().getValidator());

    @TempDir
    Path temp;

    @Test
    void loadsTheTestBundleWithItsVocabularies() throws IOException {
        ModelBundle bundle = loader.load(TestBundle.directory());

        Manifest manifest = bundle.manifest();
        assertThat(manifest.formatVersion()).isEqualTo(1);
        for (FieldSpec field : manifest.fields()) {
            assertThat(bundle.vocabulary(field.name()).size()).as(field.name()).isEqualTo(field.vocabSize());
        }
        FieldSpec firstField = manifest.fields().get(0);
        List<String> lines = Files.readAllLines(bundle.file(firstField.vocabulary()));
        Vocabulary vocabulary = bundle.vocabulary(firstField.name());
        assertThat(vocabulary.indexOf(lines.get(0))).isEqualTo(1);
        assertThat(vocabulary.indexOf(lines.get(lines.size() - 1))).isEqualTo(lines.size());
        assertThat(vocabulary.indexOf("never-seen-in-training")).isEqualTo(Vocabulary.OOV_INDEX);
    }

    @Test
    void refusesAFileWhoseChecksumDiffers() throws IOException {
        Path bundle = TestBundle.copyTo(temp);
        Files.writeString(bundle.resolve("vocab/device.txt"), "tampered\n", StandardOpenOption.APPEND);

        assertThatThrownBy(() -> loader.load(bundle))
                .isInstanceOf(InvalidBundleException.class)
                .hasMessageContaining("vocab/device.txt")
                .hasMessageContaining("sha256");
    }

    @Test
    void refusesAnotherFormatVersion() {
        Path bundle = TestBundle.copyTo(temp);
        editManifest(bundle, manifest -> manifest.put("formatVersion", 2));

        assertThatThrownBy(() -> loader.load(bundle))
                .isInstanceOf(InvalidBundleException.class)
                .hasMessageContaining("formatVersion is 2");
    }

    @Test
    void refusesATruncatedTableEvenWithAMatchingChecksum() throws IOException {
        Path bundle = TestBundle.copyTo(temp);
        Path table = bundle.resolve("tables/task_pay.f32");
        byte[] bytes = Files.readAllBytes(table);
        Files.write(table, Arrays.copyOf(bytes, bytes.length - 4));
        updateChecksum(bundle, "tables/task_pay.f32");

        assertThatThrownBy(() -> loader.load(bundle))
                .isInstanceOf(InvalidBundleException.class)
                .hasMessageContaining("tables/task_pay.f32")
                .hasMessageContaining((bytes.length - 4) + " bytes");
    }

    @Test
    void refusesAMissingFile() throws IOException {
        Path bundle = TestBundle.copyTo(temp);
        Files.delete(bundle.resolve("vocab/age_band.txt"));

        assertThatThrownBy(() -> loader.load(bundle))
                .isInstanceOf(InvalidBundleException.class)
                .hasMessageContaining("vocab/age_band.txt")
                .hasMessageContaining("missing");
    }

    @Test
    void refusesAManifestWithoutARequiredKey() {
        Path bundle = TestBundle.copyTo(temp);
        editManifest(bundle, manifest -> manifest.remove("userIdField"));

        assertThatThrownBy(() -> loader.load(bundle))
                .isInstanceOf(InvalidBundleException.class)
                .hasMessageContaining("userIdField");
    }

    @Test
    void refusesATableFieldThatIsNotAField() {
        Path bundle = TestBundle.copyTo(temp);
        editManifest(bundle, manifest -> ((ObjectNode) manifest.get("tables").get(1).get("fields").get(0))
                .put("name", "no_such_field"));

        assertThatThrownBy(() -> loader.load(bundle))
                .isInstanceOf(InvalidBundleException.class)
                .hasMessageContaining("tables[1].fields[0]")
                .hasMessageContaining("no_such_field");
    }

    @Test
    void refusesAVocabularyWhoseSizeDisagreesWithTheManifest() throws IOException {
        Path bundle = TestBundle.copyTo(temp);
        Files.writeString(bundle.resolve("vocab/device.txt"), "one-more-device\n", StandardOpenOption.APPEND);
        updateChecksum(bundle, "vocab/device.txt");

        assertThatThrownBy(() -> loader.load(bundle))
                .isInstanceOf(InvalidBundleException.class)
                .hasMessageContaining("vocab/device.txt")
                .hasMessageContaining("vocabSize");
    }

    @Test
    void readsABundleWithoutPrecisionOrToleranceAsFp32WithTheDefaultTolerance() {
        Path bundle = TestBundle.copyTo(temp);
        editManifest(bundle, manifest -> {
            manifest.remove("parityTolerance");
            manifest.remove("quantization");
            ((ObjectNode) manifest.get("onnx")).remove("precision");
        });

        Manifest manifest = loader.load(bundle).manifest();

        assertThat(manifest.precision()).isEqualTo("fp32");
        assertThat(manifest.parityToleranceOrDefault()).isEqualTo(1e-5);
    }

    @Test
    void readsTheManifestsPrecisionAndTolerance() {
        Path bundle = TestBundle.copyTo(temp);
        editManifest(bundle, manifest -> {
            manifest.put("parityTolerance", 2e-4);
            ((ObjectNode) manifest.get("onnx")).put("precision", "int8");
        });

        Manifest manifest = loader.load(bundle).manifest();

        assertThat(manifest.precision()).isEqualTo("int8");
        assertThat(manifest.parityToleranceOrDefault()).isEqualTo(2e-4);
    }

    @Test
    void refusesAParityToleranceLooseEnoughToPassAWrongGraph() {
        Path bundle = TestBundle.copyTo(temp);
        editManifest(bundle, manifest -> manifest.put("parityTolerance", 0.05));

        assertThatThrownBy(() -> loader.load(bundle))
                .isInstanceOf(InvalidBundleException.class)
                .hasMessageContaining("parityTolerance must be at most 0.001");
    }

    @Test
    void refusesANegativeParityTolerance() {
        Path bundle = TestBundle.copyTo(temp);
        editManifest(bundle, manifest -> manifest.put("parityTolerance", -1e-5));

        assertThatThrownBy(() -> loader.load(bundle))
                .isInstanceOf(InvalidBundleException.class)
                .hasMessageContaining("parityTolerance");
    }

    @Test
    void refusesAnUnknownPrecision() {
        Path bundle = TestBundle.copyTo(temp);
        editManifest(bundle, manifest -> ((ObjectNode) manifest.get("onnx")).put("precision", "fp16"));

        assertThatThrownBy(() -> loader.load(bundle))
                .isInstanceOf(InvalidBundleException.class)
                .hasMessageContaining("onnx.precision must be fp32 or int8");
    }

    private static void editManifest(Path bundle, Consumer<ObjectNode> edit) {
        Path file = bundle.resolve("manifest.json");
        ObjectNode manifest = (ObjectNode) JSON.readTree(file);
        edit.accept(manifest);
        try {
            Files.writeString(file, JSON.writeValueAsString(manifest));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void updateChecksum(Path bundle, String relativePath) throws IOException {
        byte[] bytes = Files.readAllBytes(bundle.resolve(relativePath));
        String sha256;
        try {
            sha256 = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        editManifest(bundle, manifest -> ((ObjectNode) manifest.get("files")).put(relativePath, sha256));
    }
}
