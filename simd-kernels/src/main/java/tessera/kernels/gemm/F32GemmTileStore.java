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
 * Merges a microkernel tile (MR×NR floats, row-major, row stride NR) into C: {@code c = alpha·tile + beta·c} for the
 * first k block, {@code c = alpha·tile + c} for later ones, and on the last k block the {@link GemmEpilogue}. This
 * is the one place the epilogue is applied to GEMM results, for every tile family (also in place, after a kernel
 * stored a whole tile straight into C: {@link #applyEpilogue}). Edge tiles (fewer than MR rows or
 * NR columns) use masks; C is never touched outside [i, i+mr) × [j, j+nr). Vectors are of the preferred species
 * whatever the kernel's (NR need not be a multiple of its length).
 */
final class F32GemmTileStore {
    private F32GemmTileStore() {}

    private static final VectorSpecies<Float> S = tessera.kernels.Species.FLOAT;
    private static final int V = S.length();
    private static final ByteOrder NO = ByteOrder.nativeOrder();
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT_UNALIGNED;

    /**
     * @param tile  the tile, row r at {@code tile[r·tileNr]}
     * @param cOff  element offset of C[0][0]; (i, j) is the tile's position in C
     */
    static void store(float[] tile, int tileNr, MemorySegment c, long cOff, int ldc, int i, int j, int mr, int nr,
            float alpha, float beta, boolean first, boolean last, GemmEpilogue ep) {
        store(tile, 0, tileNr, c, cOff, ldc, i, j, mr, nr, alpha, beta, first, last, ep);
    }

    /** As above for the tile columns starting at {@code tile[tileCol]} (a piece of a tile). */
    static void store(float[] tile, int tileCol, int tileNr, MemorySegment c, long cOff, int ldc, int i, int j, int mr,
            int nr, float alpha, float beta, boolean first, boolean last, GemmEpilogue ep) {
        GemmEpilogue e = last ? ep : null;
        int full = nr / V * V;
        VectorMask<Float> tail = full < nr ? S.indexInRange(full, nr) : null;
        for (int r = 0; r < mr; r++) {
            long cRow = cOff + (long) (i + r) * ldc + j;
            int t = r * tileNr + tileCol;
            for (int v = 0; v < full; v += V) {
                FloatVector acc = merge(FloatVector.fromArray(S, tile, t + v), c, (cRow + v) * 4, alpha, beta, first, null);
                if (e != null) acc = epilogue(acc, e, i + r, j + v, null);
                acc.intoMemorySegment(c, (cRow + v) * 4, NO);
            }
            if (tail != null) {
                FloatVector acc = merge(FloatVector.fromArray(S, tile, t + full, tail), c, (cRow + full) * 4, alpha,
                        beta, first, tail);
                if (e != null) acc = epilogue(acc, e, i + r, j + full, tail);
                acc.intoMemorySegment(c, (cRow + full) * 4, NO, tail);
            }
            if (e != null && !vectorActivation(e.act())) applyScalarActivation(c, cRow, nr, e);
        }
    }

    /**
     * Applies {@code ep} in place to the C tile [i, i+mr) × [j, j+nr) that a microkernel has just written (the
     * direct path of full tiles on the last k block).
     */
    static void applyEpilogue(MemorySegment c, long cOff, int ldc, int i, int j, int mr, int nr, GemmEpilogue ep) {
        int full = nr / V * V;
        VectorMask<Float> tail = full < nr ? S.indexInRange(full, nr) : null;
        for (int r = 0; r < mr; r++) {
            long cRow = cOff + (long) (i + r) * ldc + j;
            for (int v = 0; v < full; v += V) {
                long cb = (cRow + v) * 4;
                epilogue(FloatVector.fromMemorySegment(S, c, cb, NO), ep, i + r, j + v, null).intoMemorySegment(c, cb, NO);
            }
            if (tail != null) {
                long cb = (cRow + full) * 4;
                epilogue(FloatVector.fromMemorySegment(S, c, cb, NO, tail), ep, i + r, j + full, tail)
                        .intoMemorySegment(c, cb, NO, tail);
            }
            if (!vectorActivation(ep.act())) applyScalarActivation(c, cRow, nr, ep);
        }
    }

    /** alpha·acc plus beta·C (first k block) or C (later blocks); {@code m} null means a whole vector. */
    private static FloatVector merge(FloatVector acc, MemorySegment c, long cb, float alpha, float beta, boolean first,
            VectorMask<Float> m) {
        if (alpha != 1f) acc = acc.mul(alpha);
        if (!first) return acc.add(load(c, cb, m));
        if (beta != 0f) return load(c, cb, m).mul(beta).add(acc);
        return acc;
    }

    /** Row bias, column bias, residual and the piecewise-linear activations of {@code ep} for C[row][col..). */
    private static FloatVector epilogue(FloatVector acc, GemmEpilogue ep, int row, int col, VectorMask<Float> m) {
        if (ep.rowBias() != null) acc = acc.add(ep.rowBias().get(F, (ep.rowBiasOffset() + row) * 4));
        if (ep.colBias() != null) acc = acc.add(load(ep.colBias(), (ep.colBiasOffset() + col) * 4, m));
        if (ep.residual() != null) {
            acc = acc.add(load(ep.residual(), (ep.residualOffset() + (long) row * ep.ldResidual() + col) * 4, m));
        }
        Activation act = ep.act();
        if (act == Activation.RELU) return acc.max(0f);
        if (act == Activation.LEAKY_RELU) return acc.blend(acc.mul(ep.activation().a()), acc.compare(VectorOperators.LT, 0f));
        if (act == Activation.CLIP) return acc.max(ep.activation().a()).min(ep.activation().b());
        return acc;
    }

    private static FloatVector load(MemorySegment s, long byteOffset, VectorMask<Float> m) {
        return m == null ? FloatVector.fromMemorySegment(S, s, byteOffset, NO) : FloatVector.fromMemorySegment(S, s, byteOffset, NO, m);
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
