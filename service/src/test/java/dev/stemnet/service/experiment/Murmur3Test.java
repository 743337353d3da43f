package dev.stemnet.service.experiment;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Published MurmurHash3_x86_32 vectors (the SMHasher reference as collected for verification, and the examples of
 * Python's {@code mmh3} README, which the offline analysis can use to recompute buckets).
 */
class Murmur3Test {

    @ParameterizedTest(name = "bytes {0}, seed {1}")
    @CsvSource({
            "'', 00000000, 00000000",
            "'', 00000001, 514e28b7",
            "'', ffffffff, 81f16f39",
            "ffffffff, 00000000, 76293b50",
            "21436587, 00000000, f55b516b",
            "21436587, 5082edee, 2362f9de",
            "214365, 00000000, 7e4a8634",
            "2143, 00000000, a0f7b07a",
            "21, 00000000, 72661cf4",
            "00000000, 00000000, 2362f9de",
            "000000, 00000000, 85f0b427",
            "0000, 00000000, 30f4c306",
            "00, 00000000, 514e28b7"})
    void matchesTheReferenceOnBytes(String hexBytes, String hexSeed, String expected) {
        byte[] data = HexFormat.of().parseHex(hexBytes);
        int seed = Integer.parseUnsignedInt(hexSeed, 16);
        assertThat(Murmur3.hash32(data, seed)).isEqualTo(Integer.parseUnsignedInt(expected, 16));
    }

    @ParameterizedTest(name = "\"{0}\", seed {1}")
    @CsvSource({
            "a, 9747b28c, 7fa09ea6",
            "aa, 9747b28c, 5d211726",
            "aaa, 9747b28c, 283e0130",
            "aaaa, 9747b28c, 5a97808a",
            "ab, 9747b28c, 74875592",
            "abc, 9747b28c, c84a62dd",
            "abcd, 9747b28c, f0478627",
            "'Hello, world!', 9747b28c, 24884cba",
            "ππππππππ, 9747b28c, d58063c1",
            "The quick brown fox jumps over the lazy dog, 9747b28c, 2fa826cd"})
    void matchesTheReferenceOnUtf8Text(String text, String hexSeed, String expected) {
        int seed = Integer.parseUnsignedInt(hexSeed, 16);
        assertThat(Murmur3.hash32(text.getBytes(StandardCharsets.UTF_8), seed))
                .isEqualTo(Integer.parseUnsignedInt(expected, 16));
    }

    /** {@code mmh3.hash("foo") == -156908512} and {@code mmh3.hash("foo", 42) == -1322301282}. */
    @ParameterizedTest(name = "mmh3.hash(\"foo\", {0})")
    @CsvSource({"0, -156908512", "42, -1322301282"})
    void agreesWithPythonMmh3(int seed, int expected) {
        assertThat(Murmur3.hash32("foo".getBytes(StandardCharsets.UTF_8), seed)).isEqualTo(expected);
    }
}
