package tessera.kernels.gemm;

import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.VectorSpecies;

/**
 * A register-blocked float32 GEMM microkernel: one MR × NR tile of C (NR = {@link #vectors} vectors of
 * {@link #species}), accumulated over kc steps from packed panels held in Java arrays.
 *
 * <p>Layouts (all offsets in float elements): A is packed k-major, MR floats per k step ({@code a[aOff + p·MR + r]});
 * B is packed k-major, NR floats per k step ({@code b[bOff + p·NR + c]}); the result tile is row-major with row
 * stride NR, written from {@code t[0]}, or for whole tiles straight into C ({@link #computeInto}). Implementations keep every vector in a local (none escape into fields) and
 * hold their species in a static final field so C2 compiles the loop to vector instructions; a family (tile shape)
 * has one implementation per species, e.g. {@link F32Gemm6x2v#S512}.
 */
abstract class F32GemmMicrokernel {
    /** Rows of the tile. */
    final int mr;
    /** Vectors per tile row. */
    final int vectors;
    /** Floats per vector. */
    final int v;
    /** Columns of the tile (vectors · v floats). */
    final int nr;
    /** The species every vector of this kernel uses. */
    final VectorSpecies<Float> species;

    F32GemmMicrokernel(int mr, int vectors, VectorSpecies<Float> species) {
        this.mr = mr;
        this.vectors = vectors;
        this.v = species.length();
        this.nr = vectors * v;
        this.species = species;
    }

    /** t[r·NR + c] = Σ_{p < kc} a[aOff + p·MR + r] · b[bOff + p·NR + c] for the whole MR × NR tile (kc ≥ 1). */
    abstract void compute(float[] a, int aOff, float[] b, int bOff, int kc, float[] t);

    /**
     * The full-tile fast path, written straight into C: {@code C[r][c] = (accumulate ? C[r][c] : 0) + Σ_p a·b} for
     * the MR × NR floats at byte offset {@code cByte} of {@code c}, row stride {@code ldcBytes} bytes. The caller
     * guarantees the whole tile lies inside C; scaling and the epilogue are the caller's ({@link F32GemmTileStore}).
     */
    abstract void computeInto(float[] a, int aOff, float[] b, int bOff, int kc, MemorySegment c, long cByte,
            long ldcBytes, boolean accumulate);

    /**
     * The GEMM's epilogue on a whole MR × NR tile of C just written by {@link #computeInto} (still in L1):
     * {@code C[r][c] = clamp(C[r][c] + bias[r] + res[r][c])}, where bias (nullable) is MR floats from byte offset
     * {@code biasByte}, res (nullable) MR rows {@code ldResBytes} apart from {@code resByte}, and {@code clamp} applies
     * {@code min(max(·, lo), hi)} (ReLU: 0, +∞; Clip: its bounds). Straight-line per species: the generic
     * {@link F32GemmTileStore} epilogue cost as much as the multiply-adds of a shallow product.
     */
    abstract void epilogue(MemorySegment c, long cByte, long ldcBytes, MemorySegment bias, long biasByte, MemorySegment res,
            long resByte, long ldResBytes, boolean clamp, float lo, float hi);

    /**
     * The narrow edge: only the first vector of columns (for a strip of at most {@link #v} columns); the same packed
     * layout (B rows still NR floats apart). Writes t[r·NR + c] for c &lt; v and leaves the other columns untouched.
     */
    abstract void computeNarrow(float[] a, int aOff, float[] b, int bOff, int kc, float[] t);

    /** The family name without species, e.g. {@code 6x2v}. */
    final String shape() { return mr + "x" + vectors + "v"; }

    /** Vector width in bits (128, 256 or 512). */
    final int bits() { return species.vectorBitSize(); }

    /** XNNPACK-style name with the vector width, e.g. {@code f32-gemm-6x2v-512}. */
    final String name() { return "f32-gemm-" + shape() + "-" + bits(); }

    @Override
    public String toString() { return name(); }
}
