package tessera.kernels.gemm;

import java.lang.foreign.MemorySegment;

/**
 * A right operand B (k × n) that is never materialized: the GEMM driver asks it for one KC × NC panel at a time,
 * already in the packed layout, so an operand computed from another tensor (a convolution's im2col matrix) is
 * written once, straight into the panel, instead of into a k × n matrix that is then packed.
 *
 * <p>Used by {@link Gemm#sgemmPackedSource}. Different threads of one product call {@link #pack} at the same time
 * for different column ranges: implementations must not keep per-call state in fields (a per-thread instance set
 * up before the product and only read during it is the intended shape).
 */
public interface PackedBSource {
    /**
     * Writes rows [p0, p0 + kc) × columns [j0, j0 + nc) of B as strips of {@code nr} columns: element (p0 + p,
     * j0 + j) goes to {@code dst[(j / nr)·nr·kc + p·nr + j % nr]}; the columns of the last strip past nc are zeros.
     */
    void pack(int p0, int kc, int j0, int nc, int nr, float[] dst);

    /**
     * The memory {@link #pack} reads (null if none): the product runs on the calling thread alone when it is
     * confined to that thread.
     */
    MemorySegment memory();
}
