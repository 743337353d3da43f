package dev.stemnet.loadtest;

import java.util.Arrays;
import java.util.random.RandomGenerator;

/**
 * Draws ranks {@code 0..n-1} with probability proportional to {@code 1 / (rank + 1)^exponent}: rank 0 is the
 * most popular. Inverse CDF over a precomputed cumulative table, so one draw is a binary search and allocates
 * nothing. Vocabulary files list values most frequent first, so a rank is a line of a vocabulary.
 */
public final class ZipfSampler {

    private final double[] cumulative;

    public ZipfSampler(int n, double exponent) {
        if (n < 1) {
            throw new IllegalArgumentException("n must be at least 1, got " + n);
        }
        if (!(exponent >= 0)) {
            throw new IllegalArgumentException("exponent must be >= 0, got " + exponent);
        }
        cumulative = new double[n];
        double sum = 0;
        for (int rank = 0; rank < n; rank++) {
            sum += 1.0 / Math.pow(rank + 1, exponent);
            cumulative[rank] = sum;
        }
        for (int rank = 0; rank < n; rank++) {
            cumulative[rank] /= sum;
        }
        cumulative[n - 1] = 1.0;
    }

    public int size() {
        return cumulative.length;
    }

    public int sample(RandomGenerator random) {
        int found = Arrays.binarySearch(cumulative, random.nextDouble());
        // Not found: -(insertion point) - 1, the first rank whose cumulative probability exceeds the draw.
        return found >= 0 ? found : -found - 1;
    }

    /** The probability of {@code rank}. */
    public double probability(int rank) {
        return rank == 0 ? cumulative[0] : cumulative[rank] - cumulative[rank - 1];
    }
}
