package dev.stemnet.service.experiment;

/**
 * MurmurHash3 x86_32 (Austin Appleby's reference {@code MurmurHash3_x86_32}): standard, seedable, fast, and
 * available in every language an analysis may be written in (Python {@code mmh3.hash(..., signed=False)}), so
 * anyone can recompute a unit's bucket. Written out here because no library on the classpath offers it outside
 * test scope, and it is small and pinned down by published test vectors.
 */
public final class Murmur3 {

    private static final int C1 = 0xcc9e2d51;
    private static final int C2 = 0x1b873593;

    private Murmur3() {}

    /** The 32-bit hash of {@code data} as the reference computes it; read it unsigned for a bucket. */
    public static int hash32(byte[] data, int seed) {
        int h = seed;
        int blocks = data.length / 4;
        for (int i = 0; i < blocks; i++) {
            int offset = i * 4;
            int k = (data[offset] & 0xff) | (data[offset + 1] & 0xff) << 8
                    | (data[offset + 2] & 0xff) << 16 | (data[offset + 3] & 0xff) << 24;
            h ^= mixK(k);
            h = Integer.rotateLeft(h, 13) * 5 + 0xe6546b64;
        }
        int tail = blocks * 4;
        int k = 0;
        switch (data.length & 3) {
            case 3:
                k ^= (data[tail + 2] & 0xff) << 16;
                // fall through
            case 2:
                k ^= (data[tail + 1] & 0xff) << 8;
                // fall through
            case 1:
                k ^= data[tail] & 0xff;
                h ^= mixK(k);
                break;
            default:
                break;
        }
        h ^= data.length;
        h ^= h >>> 16;
        h *= 0x85ebca6b;
        h ^= h >>> 13;
        h *= 0xc2b2ae35;
        h ^= h >>> 16;
        return h;
    }

    private static int mixK(int k) {
        return Integer.rotateLeft(k * C1, 15) * C2;
    }
}
