package tessera.kernels.eltwise;

import tessera.kernels.ComputePool;

/**
 * Splitting of {@code [0, n)} element ranges across the compute pool for elementwise kernels. Chunk boundaries are
 * multiples of 64 elements (whole cache lines for floats, whole vectors for any species up to 2048 bits), so that an
 * element is computed by the same vector lane arithmetic whatever the thread count; only the last chunk has a tail.
 */
public final class Ranges {
    /** Below this many elements a kernel runs on the calling thread. */
    public static final long PARALLEL_MIN = 1L << 15;
    private static final long ALIGN = 64;

    private Ranges() {}

    /** Number of tasks for {@code n} elements (1 when small). */
    public static int tasks(long n) {
        if (n < PARALLEL_MIN) return 1;
        return (int) Math.max(1, Math.min(ComputePool.threads(), n / (PARALLEL_MIN / 2)));
    }

    /** Start of task {@code t} of {@code tasks} over {@code n} elements (end of the last task is {@code n}). */
    public static long start(long n, int tasks, int t) {
        if (t >= tasks) return n;
        if (t == 0) return 0;
        long s = (long) ((double) n * t / tasks);
        return Math.min(n, s / ALIGN * ALIGN);
    }
}
