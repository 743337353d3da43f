package dev.stemnet.service.experiment;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.stemnet.service.experiment.ExperimentConfig.Layer;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class ExperimentConfigParserTest {

    static final String TWO_ARMS = """
            version: "2026-11-25.1"
            hash-seed: 7
            layers:
              - name: model
                salt: stem-vs-mmoe-1
                buckets: 1000
                arms:
                  - name: control
                    model: mmoe
                    ranges: "0-499"
                  - name: treatment
                    model: stem-net
                    version: "20261124T201228Z"
                    ranges: ["500-899", "900-999"]
              - name: creative
                salt: creative-2
                buckets: 100
                arms:
                  - {name: a, percent: 25}
                  - {name: b, percent: 75}
            """;

    @Test
    void readsLayersArmsAndBucketRangesOfAValidFile() {
        ExperimentConfig config = ExperimentConfigParser.parse(TWO_ARMS);

        assertThat(config.version()).isEqualTo("2026-11-25.1");
        assertThat(config.hashSeed()).isEqualTo(7);
        Layer model = config.modelLayer().orElseThrow();
        assertThat(model.name()).isEqualTo("model");
        assertThat(model.armOf(499).name()).isEqualTo("control");
        assertThat(model.armOf(500).name()).isEqualTo("treatment");
        assertThat(model.armOf(999).version()).isEqualTo("20261124T201228Z");
        Layer creative = config.layer("creative").orElseThrow();
        assertThat(creative.choosesModel()).isFalse();
        assertThat(creative.armOf(24).name()).isEqualTo("a");
        assertThat(creative.armOf(25).name()).isEqualTo("b");
    }

    static final String WITH_SHADOW = TWO_ARMS + """
            shadows:
              - {name: mmoe-shadow, model: mmoe, salt: shadow-1, buckets: 1000, percent: 10, layer: model, arm: treatment}
            """;

    @Test
    void readsShadowsTheirShareOfBucketsAndTheArmTheyAreLimitedTo() {
        ExperimentConfig config = ExperimentConfigParser.parse(WITH_SHADOW);

        ExperimentConfig.Shadow shadow = config.shadows().get(0);
        assertThat(shadow.model()).isEqualTo("mmoe");
        assertThat(shadow.layer()).isEqualTo("model");
        assertThat(shadow.arm()).isEqualTo("treatment");
        assertThat(shadow.shadowedBuckets().stream().filter(Boolean::booleanValue).count()).isEqualTo(100);
        assertThat(ExperimentConfigParser.parse("""
                shadows:
                  - {name: all, model: mmoe, salt: s, buckets: 10, ranges: ["0-2", "7"]}
                """).shadows().get(0).shadowedBuckets())
                .containsExactly(true, true, true, false, false, false, false, true, false, false);
    }

    @Test
    void versionsAFileWithoutAVersionKeyByItsContent() {
        String unversioned = TWO_ARMS.replace("version: \"2026-11-25.1\"\n", "");
        String version = ExperimentConfigParser.parse(unversioned).version();

        assertThat(version).matches("sha256:[0-9a-f]{12}");
        assertThat(ExperimentConfigParser.parse(unversioned).version()).isEqualTo(version);
        assertThat(ExperimentConfigParser.parse(unversioned.replace("creative-2", "creative-3")).version()).isNotEqualTo(version);
    }

    @Test
    void sendsBucketsNoArmCoversToTheDeclaredDefaultArm() {
        ExperimentConfig config = ExperimentConfigParser.parse("""
                layers:
                  - name: model
                    salt: s
                    buckets: 100
                    default: control
                    arms:
                      - {name: control, model: mmoe, ranges: "0-9"}
                      - {name: treatment, model: stem-net, ranges: "10-19"}
                """);

        Layer layer = config.layers().get(0);
        assertThat(layer.armOf(5).name()).isEqualTo("control");
        assertThat(layer.armOf(15).name()).isEqualTo("treatment");
        assertThat(layer.armOf(20).name()).isEqualTo("control");
        assertThat(layer.armOf(99).name()).isEqualTo("control");
    }

    static Stream<Arguments> refusedFiles() {
        return Stream.of(
                Arguments.of("overlapping ranges", TWO_ARMS.replace("\"500-899\"", "\"450-899\""),
                        "layers[model].arms[treatment].ranges: '450-899' overlaps arm 'control' at bucket 450"),
                Arguments.of("a gap without a default arm", TWO_ARMS.replace(", \"900-999\"", ""),
                        "layers[model]: buckets 900-999 belong to no arm"),
                Arguments.of("percentages under 100", TWO_ARMS.replace("percent: 75", "percent: 65"),
                        "layers[creative]: the percentages of layer 'creative' add up to less than 100"),
                Arguments.of("percentages over 100", TWO_ARMS.replace("percent: 75", "percent: 85"),
                        "layers[creative].arms[b].percent: the percentages of layer 'creative' add up to more than 100"),
                Arguments.of("a percentage of part of a bucket", TWO_ARMS.replace("percent: 25", "percent: 25.5"),
                        "layers[creative].arms[a].percent: 25.5% of 100 buckets is not a whole number of buckets"),
                Arguments.of("ranges and percentages in one layer", TWO_ARMS.replace("{name: b, percent: 75}", "{name: b, ranges: \"25-99\"}"),
                        "layers[creative].arms[b]: all arms of a layer use 'ranges' or all use 'percent'"),
                Arguments.of("a range past the last bucket", TWO_ARMS.replace("\"900-999\"", "\"900-1000\""),
                        "layers[model].arms[treatment].ranges: '900-1000' is not a range within 0-999"),
                Arguments.of("a misspelt key", TWO_ARMS.replace("buckets: 100\n", "bucket: 100\n"),
                        "layers[creative].bucket: unknown key"),
                Arguments.of("a misspelt top-level key", TWO_ARMS.replace("hash-seed", "seed"), "seed: unknown key"),
                Arguments.of("a shared salt", TWO_ARMS.replace("creative-2", "stem-vs-mmoe-1"),
                        "layers[creative].salt: salt 'stem-vs-mmoe-1' is used by another layer"),
                Arguments.of("two layers choosing models", TWO_ARMS.replace("{name: a, percent: 25}", "{name: a, model: x, percent: 25}")
                                .replace("{name: b, percent: 75}", "{name: b, model: y, percent: 75}"),
                        "layers[creative]: only one layer may map arms to models"),
                Arguments.of("an arm without a model in the model layer", TWO_ARMS.replace("        model: stem-net\n        version: \"20261124T201228Z\"\n", ""),
                        "layers[model].arms[treatment].model: either every arm of a layer names a model or none does"),
                Arguments.of("a default arm that does not exist",
                        TWO_ARMS.replace("buckets: 1000\n", "buckets: 1000\n    default: holdout\n"),
                        "layers[model].default: no arm is named 'holdout'"),
                Arguments.of("two layers of one name", TWO_ARMS.replace("name: creative", "name: model"),
                        "layers[model].name: two layers are named 'model'"),
                Arguments.of("two arms of one name", TWO_ARMS.replace("name: b", "name: a"),
                        "layers[creative].arms[a].name: two arms are named 'a'"),
                Arguments.of("a bucket count of zero", TWO_ARMS.replace("buckets: 100\n", "buckets: 0\n"),
                        "layers[creative].buckets: must be between 1 and 1000000"),
                Arguments.of("an arm name unfit for a label", TWO_ARMS.replace("name: b", "name: \"b arm\""),
                        "layers[creative].arms[1].name: 'b arm' may only hold"),
                Arguments.of("a version without a model", TWO_ARMS.replace("        model: stem-net\n", ""),
                        "layers[model].arms[treatment].version: a version needs a model"),
                Arguments.of("no layers", "layers: []", "layers: at least one layer or shadow is required"),
                Arguments.of("a shadow with a misspelt key", WITH_SHADOW.replace("percent: 10,", "percnt: 10,"),
                        "shadows[mmoe-shadow].percnt: unknown key"),
                Arguments.of("a shadow sharing a layer's salt", WITH_SHADOW.replace("salt: shadow-1", "salt: creative-2"),
                        "shadows[mmoe-shadow].salt: salt 'creative-2' is used by another layer or shadow"),
                Arguments.of("a shadow with ranges and a percentage", WITH_SHADOW.replace("percent: 10,", "percent: 10, ranges: \"0-9\","),
                        "shadows[mmoe-shadow]: give exactly one of 'ranges' and 'percent'"),
                Arguments.of("a shadow limited to a layer but no arm", WITH_SHADOW.replace(", arm: treatment", ""),
                        "shadows[mmoe-shadow]: 'layer' and 'arm' go together"),
                Arguments.of("a shadow limited to a layer that does not exist", WITH_SHADOW.replace("layer: model", "layer: modle"),
                        "shadows[mmoe-shadow].layer: no layer is named 'modle'"),
                Arguments.of("a shadow limited to an arm that does not exist", WITH_SHADOW.replace("arm: treatment", "arm: treatmnt"),
                        "shadows[mmoe-shadow].arm: layer 'model' has no arm 'treatmnt'"),
                Arguments.of("two shadows of one name", WITH_SHADOW + "  - {name: mmoe-shadow, model: ple, salt: s2, buckets: 10, percent: 10}\n",
                        "shadows[mmoe-shadow].name: two shadows are named 'mmoe-shadow'"),
                Arguments.of("broken YAML", "layers: [", "not valid YAML"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("refusedFiles")
    void refusesAFileNamingTheLayerArmAndKey(String problem, String yaml, String message) {
        assertThatThrownBy(() -> ExperimentConfigParser.parse(yaml))
                .isInstanceOf(InvalidExperimentConfigException.class)
                .hasMessageContaining(message);
    }
}
