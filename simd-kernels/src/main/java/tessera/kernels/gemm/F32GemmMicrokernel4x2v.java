package tessera.kernels.gemm;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * f32-gemm-4x2v: the register-blocked float32 GEMM microkernel, MR = 4 rows × NR = 2 vectors of
 * {@link FloatVector#SPECIES_PREFERRED} (4×16 with 256-bit vectors, 4×32 with 512-bit) — 8 vector accumulators,
 * 2 vector loads of B and 4 broadcasts of A per k step (8 FMAs).
 *
 * <p>Why 4×2v and heap arrays: C2 keeps these 11 vector values in registers even with AVX2's 16, and range checks
 * on {@code float[]} indices are hoisted out of the loop. Measured on this machine (Zen 3, AVX2, a 144×256 A block
 * against one packed B panel): 4×2v on arrays 65–95 GFLOP/s, the previous 6×2v 38–41 on arrays and 40–67 on
 * memory segments (12 accumulators + 3 more values spill), 4×2v on segments 31–39.
 *
 * <p>Inputs are packed panels: A as {@code a[p][r]} (MR floats per k step), B as {@code b[p][c]} (NR floats per
 * k step). The MR×NR result (row-major, NR floats per row) is written to {@code tile}; the caller merges it into C.
 */
final class F32GemmMicrokernel4x2v {
    private F32GemmMicrokernel4x2v() {}

    static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    static final int V = S.length();
    /** Rows per tile. */
    static final int MR = 4;
    /** Columns per tile (two vectors). */
    static final int NR = 2 * V;

    private static final ByteOrder NO = ByteOrder.nativeOrder();

    /**
     * tile[r][c] = Σ_p a[aOff + p·MR + r]·b[bOff + p·NR + c] over p in [0, kc), written from {@code tile[tOff]}.
     */
    static void compute(float[] a, int aOff, float[] b, int bOff, int kc, float[] tile, int tOff) {
        FloatVector c00 = FloatVector.zero(S), c01 = FloatVector.zero(S);
        FloatVector c10 = FloatVector.zero(S), c11 = FloatVector.zero(S);
        FloatVector c20 = FloatVector.zero(S), c21 = FloatVector.zero(S);
        FloatVector c30 = FloatVector.zero(S), c31 = FloatVector.zero(S);
        int ap = aOff, bp = bOff;
        for (int p = 0; p < kc; p++) {
            FloatVector b0 = FloatVector.fromArray(S, b, bp);
            FloatVector b1 = FloatVector.fromArray(S, b, bp + V);
            FloatVector x = FloatVector.broadcast(S, a[ap]);
            c00 = x.fma(b0, c00);
            c01 = x.fma(b1, c01);
            x = FloatVector.broadcast(S, a[ap + 1]);
            c10 = x.fma(b0, c10);
            c11 = x.fma(b1, c11);
            x = FloatVector.broadcast(S, a[ap + 2]);
            c20 = x.fma(b0, c20);
            c21 = x.fma(b1, c21);
            x = FloatVector.broadcast(S, a[ap + 3]);
            c30 = x.fma(b0, c30);
            c31 = x.fma(b1, c31);
            ap += MR;
            bp += NR;
        }
        c00.intoArray(tile, tOff);
        c01.intoArray(tile, tOff + V);
        c10.intoArray(tile, tOff + NR);
        c11.intoArray(tile, tOff + NR + V);
        c20.intoArray(tile, tOff + 2 * NR);
        c21.intoArray(tile, tOff + 2 * NR + V);
        c30.intoArray(tile, tOff + 3 * NR);
        c31.intoArray(tile, tOff + 3 * NR + V);
    }

    /**
     * The full-tile fast path, written straight into C (row-major floats at byte offset {@code cByte}, row stride
     * {@code ldcBytes}) with the common convolution epilogue fused:
     * {@code C[r][c] = act((accumulate ? C[r][c] : 0) + Σ_p a[p][r]·b[p][c] + bias_r + residual[r][c])} with act
     * ReLU ({@code relu}) or identity; {@code res} null means no residual (else row stride {@code ldResBytes}).
     * A plain product passes zero biases, no residual and no ReLU. The caller guarantees a whole MR×NR tile inside
     * C and alpha = 1.
     */
    static void computeInto(float[] a, int aOff, float[] b, int bOff, int kc, MemorySegment c, long cByte,
            long ldcBytes, boolean accumulate, float bias0, float bias1, float bias2, float bias3, MemorySegment res,
            long resByte, long ldResBytes, boolean relu) {
        FloatVector c00 = FloatVector.broadcast(S, bias0), c01 = c00;
        FloatVector c10 = FloatVector.broadcast(S, bias1), c11 = c10;
        FloatVector c20 = FloatVector.broadcast(S, bias2), c21 = c20;
        FloatVector c30 = FloatVector.broadcast(S, bias3), c31 = c30;
        int ap = aOff, bp = bOff;
        for (int p = 0; p < kc; p++) {
            FloatVector b0 = FloatVector.fromArray(S, b, bp);
            FloatVector b1 = FloatVector.fromArray(S, b, bp + V);
            FloatVector x = FloatVector.broadcast(S, a[ap]);
            c00 = x.fma(b0, c00);
            c01 = x.fma(b1, c01);
            x = FloatVector.broadcast(S, a[ap + 1]);
            c10 = x.fma(b0, c10);
            c11 = x.fma(b1, c11);
            x = FloatVector.broadcast(S, a[ap + 2]);
            c20 = x.fma(b0, c20);
            c21 = x.fma(b1, c21);
            x = FloatVector.broadcast(S, a[ap + 3]);
            c30 = x.fma(b0, c30);
            c31 = x.fma(b1, c31);
            ap += MR;
            bp += NR;
        }
        long vb = V * 4L, r0 = cByte, r1 = r0 + ldcBytes, r2 = r1 + ldcBytes, r3 = r2 + ldcBytes;
        if (accumulate) {
            c00 = c00.add(FloatVector.fromMemorySegment(S, c, r0, NO));
            c01 = c01.add(FloatVector.fromMemorySegment(S, c, r0 + vb, NO));
            c10 = c10.add(FloatVector.fromMemorySegment(S, c, r1, NO));
            c11 = c11.add(FloatVector.fromMemorySegment(S, c, r1 + vb, NO));
            c20 = c20.add(FloatVector.fromMemorySegment(S, c, r2, NO));
            c21 = c21.add(FloatVector.fromMemorySegment(S, c, r2 + vb, NO));
            c30 = c30.add(FloatVector.fromMemorySegment(S, c, r3, NO));
            c31 = c31.add(FloatVector.fromMemorySegment(S, c, r3 + vb, NO));
        }
        if (res != null) {
            long q0 = resByte, q1 = q0 + ldResBytes, q2 = q1 + ldResBytes, q3 = q2 + ldResBytes;
            c00 = c00.add(FloatVector.fromMemorySegment(S, res, q0, NO));
            c01 = c01.add(FloatVector.fromMemorySegment(S, res, q0 + vb, NO));
            c10 = c10.add(FloatVector.fromMemorySegment(S, res, q1, NO));
            c11 = c11.add(FloatVector.fromMemorySegment(S, res, q1 + vb, NO));
            c20 = c20.add(FloatVector.fromMemorySegment(S, res, q2, NO));
            c21 = c21.add(FloatVector.fromMemorySegment(S, res, q2 + vb, NO));
            c30 = c30.add(FloatVector.fromMemorySegment(S, res, q3, NO));
            c31 = c31.add(FloatVector.fromMemorySegment(S, res, q3 + vb, NO));
        }
        if (relu) {
            c00 = c00.max(0f);
            c01 = c01.max(0f);
            c10 = c10.max(0f);
            c11 = c11.max(0f);
            c20 = c20.max(0f);
            c21 = c21.max(0f);
            c30 = c30.max(0f);
            c31 = c31.max(0f);
        }
        c00.intoMemorySegment(c, r0, NO);
        c01.intoMemorySegment(c, r0 + vb, NO);
        c10.intoMemorySegment(c, r1, NO);
        c11.intoMemorySegment(c, r1 + vb, NO);
        c20.intoMemorySegment(c, r2, NO);
        c21.intoMemorySegment(c, r2 + vb, NO);
        c30.intoMemorySegment(c, r3, NO);
        c31.intoMemorySegment(c, r3 + vb, NO);
    }
    /**
     * The narrow edge: only the first V columns of the strip (for a last strip of at most V columns), the same
     * packed layout (B rows still NR floats apart); writes tile[r][0..V) and leaves tile[r][V..NR) untouched.
     */
    static void computeHalf(float[] a, int aOff, float[] b, int bOff, int kc, float[] tile, int tOff) {
        FloatVector c0 = FloatVector.zero(S), c1 = FloatVector.zero(S), c2 = FloatVector.zero(S), c3 = FloatVector.zero(S);
        int ap = aOff, bp = bOff;
        for (int p = 0; p < kc; p++) {
            FloatVector b0 = FloatVector.fromArray(S, b, bp);
            c0 = FloatVector.broadcast(S, a[ap]).fma(b0, c0);
            c1 = FloatVector.broadcast(S, a[ap + 1]).fma(b0, c1);
            c2 = FloatVector.broadcast(S, a[ap + 2]).fma(b0, c2);
            c3 = FloatVector.broadcast(S, a[ap + 3]).fma(b0, c3);
            ap += MR;
            bp += NR;
        }
        c0.intoArray(tile, tOff);
        c1.intoArray(tile, tOff + NR);
        c2.intoArray(tile, tOff + 2 * NR);
        c3.intoArray(tile, tOff + 3 * NR);
    }
}
