package tessera.onnx.infer;

/**
 * The Mersenne Twister MT19937 (Matsumoto and Nishimura, 1998) as numpy's legacy generator uses it:
 * {@link #seed(int)} is {@code init_genrand} ({@code numpy.random.RandomState(seed)} for a seed in [0, 2^32)),
 * {@link #nextInt()} is {@code genrand_int32}, and {@link #nextDouble()} is numpy's {@code random_sample}
 * (53 random bits from two draws), so {@code RandomState(seed).uniform(0, 1, n)} is n calls of it in order.
 * Holds its 624-word state; reseeding reuses it, so drawing allocates nothing. Not thread-safe.
 */
final class Mt19937 {
    private static final int N = 624, M = 397;
    private static final int MATRIX_A = 0x9908B0DF, UPPER = 0x80000000, LOWER = 0x7FFFFFFF;

    private final int[] mt = new int[N];
    private int index = N + 1;

    /** A generator seeded with {@code seed} (the 32 bits as unsigned). */
    Mt19937(int seed) { seed(seed); }

    /** Restarts the sequence from {@code seed} ({@code init_genrand}; the 32 bits as unsigned). */
    void seed(int seed) {
        mt[0] = seed;
        for (int i = 1; i < N; i++) mt[i] = 1812433253 * (mt[i - 1] ^ (mt[i - 1] >>> 30)) + i;
        index = N;
    }

    /** The next 32 random bits ({@code genrand_int32}). */
    int nextInt() {
        if (index >= N) twist();
        int y = mt[index++];
        y ^= y >>> 11;
        y ^= (y << 7) & 0x9D2C5680;
        y ^= (y << 15) & 0xEFC60000;
        return y ^ (y >>> 18);
    }

    /** A double uniform in [0, 1) from 53 random bits: (a·2^26 + b) / 2^53 with a, b the top 27 and 26 bits of two draws. */
    double nextDouble() {
        long a = (nextInt() >>> 5) & 0xFFFF_FFFFL, b = (nextInt() >>> 6) & 0xFFFF_FFFFL;
        return (a * 67108864.0 + b) / 9007199254740992.0;
    }

    private void twist() {
        for (int k = 0; k < N; k++) {
            int y = (mt[k] & UPPER) | (mt[(k + 1) % N] & LOWER);
            mt[k] = mt[(k + M) % N] ^ (y >>> 1) ^ ((y & 1) != 0 ? MATRIX_A : 0);
        }
        index = 0;
    }
}
