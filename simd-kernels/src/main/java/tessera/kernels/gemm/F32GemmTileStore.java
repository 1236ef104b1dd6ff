package tessera.kernels.gemm;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
import tessera.kernels.Activation;

/**
 * Merges a microkernel tile (MR×NR floats, row-major) into C: {@code c = alpha·tile + beta·c} for the first k block,
 * {@code c = alpha·tile + c} for later ones, and on the last k block the {@link GemmEpilogue}. Edge tiles
 * (fewer than MR rows or NR columns) use masks; C is never touched outside [i, i+mr) × [j, j+nr).
 */
final class F32GemmTileStore {
    private F32GemmTileStore() {}

    private static final VectorSpecies<Float> S = F32GemmMicrokernel4x2v.S;
    private static final int V = F32GemmMicrokernel4x2v.V;
    private static final int NR = F32GemmMicrokernel4x2v.NR;
    private static final ByteOrder NO = ByteOrder.nativeOrder();
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT_UNALIGNED;

    /**
     * @param tOff  element offset of the tile in {@code tile}
     * @param cOff  element offset of C[0][0]; (i, j) is the tile's position in C
     */
    static void store(float[] tile, int tOff, MemorySegment c, long cOff, int ldc, int i, int j, int mr, int nr,
            float alpha, float beta, boolean first, boolean last, GemmEpilogue ep) {
        boolean epi = last && ep != null;
        for (int r = 0; r < mr; r++) {
            long cRow = cOff + (long) (i + r) * ldc + j;
            int tRow = tOff + r * NR;
            for (int v = 0; v < NR && v < nr; v += V) {
                int cols = Math.min(V, nr - v);
                if (cols == V) {
                    storeFull(tile, tRow + v, c, (cRow + v) * 4, alpha, beta, first, epi ? ep : null, i + r, j + v);
                } else {
                    storeMasked(tile, tRow + v, c, (cRow + v) * 4, alpha, beta, first, epi ? ep : null, i + r, j + v,
                            S.indexInRange(0, cols));
                }
            }
            if (epi && !vectorActivation(ep.act())) applyScalarActivation(c, cRow, nr, ep);
        }
    }

    private static void storeFull(float[] tile, int t, MemorySegment c, long cb, float alpha, float beta,
            boolean first, GemmEpilogue ep, int row, int col) {
        FloatVector acc = FloatVector.fromArray(S, tile, t);
        if (alpha != 1f) acc = acc.mul(alpha);
        if (!first) {
            acc = acc.add(FloatVector.fromMemorySegment(S, c, cb, NO));
        } else if (beta != 0f) {
            acc = FloatVector.fromMemorySegment(S, c, cb, NO).mul(beta).add(acc);
        }
        if (ep != null) {
            if (ep.rowBias() != null) acc = acc.add(ep.rowBias().get(F, (ep.rowBiasOffset() + row) * 4));
            if (ep.colBias() != null) {
                acc = acc.add(FloatVector.fromMemorySegment(S, ep.colBias(), (ep.colBiasOffset() + col) * 4, NO));
            }
            if (ep.residual() != null) {
                long rb = (ep.residualOffset() + (long) row * ep.ldResidual() + col) * 4;
                acc = acc.add(FloatVector.fromMemorySegment(S, ep.residual(), rb, NO));
            }
            Activation act = ep.act();
            if (act == Activation.RELU) {
                acc = acc.max(0f);
            } else if (act == Activation.LEAKY_RELU) {
                acc = acc.blend(acc.mul(ep.activation().a()), acc.compare(VectorOperators.LT, 0f));
            } else if (act == Activation.CLIP) {
                acc = acc.max(ep.activation().a()).min(ep.activation().b());
            }
        }
        acc.intoMemorySegment(c, cb, NO);
    }

    private static void storeMasked(float[] tile, int t, MemorySegment c, long cb, float alpha, float beta,
            boolean first, GemmEpilogue ep, int row, int col, VectorMask<Float> m) {
        FloatVector acc = FloatVector.fromArray(S, tile, t);
        if (alpha != 1f) acc = acc.mul(alpha);
        if (!first) {
            acc = acc.add(FloatVector.fromMemorySegment(S, c, cb, NO, m));
        } else if (beta != 0f) {
            acc = FloatVector.fromMemorySegment(S, c, cb, NO, m).mul(beta).add(acc);
        }
        if (ep != null) {
            if (ep.rowBias() != null) acc = acc.add(ep.rowBias().get(F, (ep.rowBiasOffset() + row) * 4));
            if (ep.colBias() != null) {
                acc = acc.add(FloatVector.fromMemorySegment(S, ep.colBias(), (ep.colBiasOffset() + col) * 4, NO, m));
            }
            if (ep.residual() != null) {
                long rb = (ep.residualOffset() + (long) row * ep.ldResidual() + col) * 4;
                acc = acc.add(FloatVector.fromMemorySegment(S, ep.residual(), rb, NO, m));
            }
            Activation act = ep.act();
            if (act == Activation.RELU) {
                acc = acc.max(0f);
            } else if (act == Activation.LEAKY_RELU) {
                acc = acc.blend(acc.mul(ep.activation().a()), acc.compare(VectorOperators.LT, 0f));
            } else if (act == Activation.CLIP) {
                acc = acc.max(ep.activation().a()).min(ep.activation().b());
            }
        }
        acc.intoMemorySegment(c, cb, NO, m);
    }

    static boolean vectorActivation(Activation act) {
        return act == Activation.IDENTITY || act == Activation.RELU || act == Activation.LEAKY_RELU || act == Activation.CLIP;
    }

    /** Applies a transcendental activation in place to {@code count} floats of C from element {@code cElem}. */
    static void applyScalarActivation(MemorySegment c, long cElem, int count, GemmEpilogue ep) {
        tessera.kernels.ActivationFn act = ep.fn();
        for (int x = 0; x < count; x++) {
            long b = (cElem + x) * 4;
            c.set(F, b, ScalarActivation.apply(act, c.get(F, b)));
        }
    }

    /**
     * The degenerate product (k = 0 or alpha = 0): {@code c = beta·c} (0 when beta = 0, ignoring C's old values)
     * then the epilogue; scalar, it only runs for degenerate calls.
     */
    static void scaleOnly(int m, int n, float beta, MemorySegment c, long cOff, int ldc, GemmEpilogue ep) {
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                long b = (cOff + (long) i * ldc + j) * 4;
                float v = beta == 0f ? 0f : beta * c.get(F, b);
                if (ep != null) {
                    if (ep.rowBias() != null) v += ep.rowBias().get(F, (ep.rowBiasOffset() + i) * 4);
                    if (ep.colBias() != null) v += ep.colBias().get(F, (ep.colBiasOffset() + j) * 4);
                    if (ep.residual() != null) v += ep.residual().get(F, (ep.residualOffset() + (long) i * ep.ldResidual() + j) * 4);
                    v = ScalarActivation.apply(ep.fn(), v);
                }
                c.set(F, b, v);
            }
        }
    }
}
