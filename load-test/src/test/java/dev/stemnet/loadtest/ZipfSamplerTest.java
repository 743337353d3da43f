package dev.stemnet.loadtest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class ZipfSamplerTest {

    @Test
    void drawsEveryRankWithItsZipfProbability() {
        ZipfSampler zipf = new ZipfSampler(100, 1.1);
        SplittableRandom random = new SplittableRandom(1);
        int draws = 200_000;
        int[] counts = new int[zipf.size()];
        for (int i = 0; i < draws; i++) {
            counts[zipf.sample(random)]++;
        }
        double harmonic = 0;
        for (int k = 1; k <= 100; k++) {
            harmonic += Math.pow(k, -1.1);
        }
        for (int rank : new int[] {0, 1, 9, 99}) {
            double expected = Math.pow(rank + 1, -1.1) / harmonic;
            assertEquals(expected, zipf.probability(rank), 1e-12);
            // Within 5 standard deviations of the binomial count.
            double sd = Math.sqrt(draws * expected * (1 - expected));
            assertEquals(draws * expected, counts[rank], 5 * sd, "rank " + rank);
        }
        assertTrue(counts[0] > counts[1] && counts[1] > counts[9] && counts[9] > counts[99]);
    }

    @Test
    void exponentZeroIsUniformAndOneValueIsAlwaysDrawn() {
        ZipfSampler uniform = new ZipfSampler(4, 0);
        for (int rank = 0; rank < 4; rank++) {
            assertEquals(0.25, uniform.probability(rank), 1e-12);
        }
        ZipfSampler single = new ZipfSampler(1, 1.1);
        SplittableRandom random = new SplittableRandom(2);
        for (int i = 0; i < 100; i++) {
            assertEquals(0, single.sample(random));
        }
    }

    @Test
    void refusesAnEmptyRange() {
        assertThrows(IllegalArgumentException.class, () -> new ZipfSampler(0, 1.1));
    }
}
