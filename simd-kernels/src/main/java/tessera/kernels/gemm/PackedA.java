package tessera.kernels.gemm;

/**
 * A constant A operand (m×k after its transpose) packed once into the micro-panel layout of the float32 GEMM
 * microkernel chosen for this JVM, for repeated products {@code C = alpha·A·op(B) + beta·C} (convolution and linear
 * weights). Made by {@link Gemm#packA}. The packed copy is a Java array, kept for the life of this object, and
 * remembers the kernel and blocking it was packed for. Immutable and safe to share between threads.
 *
 * <p>Layout: for each k block of KC columns (the last one shorter), the rows padded to a multiple of the tile's MR
 * are stored as strips of MR rows, each strip k-major ({@code strip[p][r]}); padding rows are zero.
 */
public final class PackedA {
    final float[] data;
    final int m;
    final int k;
    final int mPadded;
    final F32GemmConfig config;

    PackedA(float[] data, int m, int k, int mPadded, F32GemmConfig config) {
        this.data = data;
        this.m = m;
        this.k = k;
        this.mPadded = mPadded;
        this.config = config;
    }

    /** Rows of op(A) (= rows of C). */
    public int m() { return m; }

    /** Columns of op(A) (the reduction length). */
    public int k() { return k; }

    /** Element offset of the strip starting at row {@code i} (a multiple of MR) in the k block starting at {@code pc}. */
    int elementOffset(int i, int pc) {
        int kc = Math.min(config.blocking().kc(), k - pc);
        return Math.toIntExact((long) pc * mPadded + (long) i * kc);
    }

    @Override
    public String toString() { return "PackedA[" + m + "×" + k + "]"; }
}
