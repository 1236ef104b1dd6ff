package tessera.kernels.gemm;

/**
 * A constant A operand (m×k after its transpose) packed once into the micro-panel layout the float32 GEMM
 * microkernel reads, for repeated products {@code C = alpha·A·op(B) + beta·C} (convolution and linear weights).
 * Made by {@link Gemm#packA}. The packed copy is a Java array (the microkernel reads arrays fastest, see
 * {@link F32GemmMicrokernel4x2v}), kept for the life of this object. Immutable and safe to share between threads.
 *
 * <p>Layout: for each k block of {@link F32GemmBlocking#KC} columns (the last one shorter), the rows padded to a
 * multiple of {@link F32GemmMicrokernel4x2v#MR} are stored as strips of MR rows, each strip k-major
 * ({@code strip[p][r]}); padding rows are zero.
 */
public final class PackedA {
    final float[] data;
    final int m;
    final int k;
    final int mPadded;

    PackedA(float[] data, int m, int k, int mPadded) {
        this.data = data;
        this.m = m;
        this.k = k;
        this.mPadded = mPadded;
    }

    /** Rows of op(A) (= rows of C). */
    public int m() { return m; }

    /** Columns of op(A) (the reduction length). */
    public int k() { return k; }

    /** Element offset of the strip starting at row {@code i} (a multiple of MR) in the k block starting at {@code pc}. */
    int elementOffset(int i, int pc) {
        int kc = Math.min(F32GemmBlocking.KC, k - pc);
        return Math.toIntExact((long) pc * mPadded + (long) i * kc);
    }

    @Override
    public String toString() { return "PackedA[" + m + "×" + k + "]"; }
}
