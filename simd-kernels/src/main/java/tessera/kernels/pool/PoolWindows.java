package tessera.kernels.pool;

/** Window clipping arithmetic shared by the float32 kernels (one axis at a time). */
final class PoolWindows {
    private PoolWindows() {}

    /** First tap r ≥ 0 with {@code start + r·dilation ≥ 0}. */
    static int firstTap(int start, int dilation) {
        return start >= 0 ? 0 : (-start + dilation - 1) / dilation;
    }

    /** One past the last tap r < kernel with {@code start + r·dilation < limit} (0 when none). */
    static int endTap(int start, int kernel, int dilation, int limit) {
        if (start >= limit) return 0;
        return Math.min(kernel, (limit - 1 - start) / dilation + 1);
    }

    /** Taps inside {@code [0, size)}. */
    static int validTaps(int start, int kernel, int dilation, int size) {
        return Math.max(0, endTap(start, kernel, dilation, size) - firstTap(start, dilation));
    }

    /** Taps counted by avg_pool2d with count_include_pad: those before the end of the trailing padding. */
    static int paddedTaps(int start, int kernel, int dilation, int size, int padAfter) {
        return endTap(start, kernel, dilation, size + padAfter);
    }

    /** First output whose whole window lies inside {@code [0, size)} (windows start at {@code o·stride − pad}). */
    static int interiorBegin(int pad, int stride) {
        return (pad + stride - 1) / stride;
    }

    /** One past the last output whose whole window (span {@code eff}) lies inside {@code [0, size)}, at most {@code out}. */
    static int interiorEnd(int size, int eff, int pad, int stride, int out) {
        long room = (long) size - eff + pad;
        if (room < 0) return 0;
        return (int) Math.min(out, room / stride + 1);
    }
}
