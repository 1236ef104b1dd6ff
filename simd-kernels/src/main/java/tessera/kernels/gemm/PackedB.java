package tessera.kernels.gemm;

/**
 * A constant B operand (k×n after its transpose) packed once for repeated products {@code C = op(A)·B}: the
 * transposed form of a layer whose weights must be the right operand (a 1×1 convolution computed as
 * {@code Yᵀ = Xᵀ·Wᵀ} when its output maps are too small to fill the microkernel's NR columns). Made by
 * {@link Gemm#packB}; the products read the packed panels in place (no per-call copy). Immutable and thread-safe.
 *
 * <p>Layout: strips of NR columns over the whole depth, {@code data[s·k·NR + p·NR + c]} = op(B)[p][s·NR + c], the
 * last strip zero-padded, so the panel of k rows [pc, pc + kc) of strip s starts at {@code s·k·NR + pc·NR}.
 */
public final class PackedB {
    final float[] data;
    final int k;
    final int n;
    final F32GemmConfig config;

    PackedB(float[] data, int k, int n, F32GemmConfig config) {
        this.data = data;
        this.k = k;
        this.n = n;
        this.config = config;
    }

    /** Rows of op(B) (the reduction length). */
    public int k() { return k; }

    /** Columns of op(B) (= columns of C). */
    public int n() { return n; }

    @Override
    public String toString() { return "PackedB[" + k + "×" + n + "]"; }
}
