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
     * Floats of the tile buffer for MR×NR tiles: the tile and one vector more, so that every masked load of it
     * ({@link #mergeMasked}: up to NR − 1 columns into the last row, for a piece of a tile) lies wholly inside the
     * array. A masked access whose vector reaches past the array's end takes the Vector API's out-of-range path, a
     * per-lane bounds check through a mask; when C2 does not inline that check's mask calls (it depends on the
     * profile, so on the JIT's history), the mask is materialized: 32 heap bytes per load. ResNet-18 at batch 8 on
     * 1 thread allocated 238,784 bytes per run so, in its im2col convolutions with 14×14 and 7×7 outputs (196 and 49
     * columns per image, not multiples of NR: tiles that span two images are stored in pieces).
     */
    static int tileFloats(int mr, int nr) { return mr * nr + V; }

    /**
     * @param tile  the tile, row r at {@code tile[r·tileNr]}
     * @param cOff  element offset of C[0][0]; (i, j) is the tile's position in C
     */
    static void store(float[] tile, int tileNr, MemorySegment c, long cOff, int ldc, int i, int j, int mr, int nr,
            float alpha, float beta, boolean first, boolean last, GemmEpilogue ep) {
        store(tile, 0, tileNr, c, cOff, ldc, i, j, mr, nr, alpha, beta, first, last, ep);
    }

    /*
     * Why the per-vector work sits in storeVector/epilogueVector, which take and return no vectors or masks: a vector
     * or mask that crosses a method boundary C2 does not inline is boxed (a heap allocation and a slow path), and
     * these helpers, once compiled on their own, are too large for C2 to inline into their callers. Everything vector
     * stays inside one method; the callers pass offsets, counts and scalars only.
     */

    /** As above for the tile columns starting at {@code tile[tileCol]} (a piece of a tile). */
    static void store(float[] tile, int tileCol, int tileNr, MemorySegment c, long cOff, int ldc, int i, int j, int mr,
            int nr, float alpha, float beta, boolean first, boolean last, GemmEpilogue ep) {
        GemmEpilogue e = last ? ep : null;
        for (int r = 0; r < mr; r++) {
            long cRow = cOff + (long) (i + r) * ldc + j;
            int t = r * tileNr + tileCol;
            for (int v = 0; v < nr; v += V) {
                storeVector(tile, t + v, c, (cRow + v) * 4, Math.min(V, nr - v), alpha, beta, first, e, i + r, j + v);
            }
            if (e != null && !vectorActivation(e.act())) applyScalarActivation(c, cRow, nr, e);
        }
    }

    /**
     * Applies {@code ep} in place to the C tile [i, i+mr) × [j, j+nr) that a microkernel has just written (the
     * direct path of full tiles on the last k block).
     */
    static void applyEpilogue(MemorySegment c, long cOff, int ldc, int i, int j, int mr, int nr, GemmEpilogue ep) {
        boolean scalarAct = !vectorActivation(ep.act());
        for (int r = 0; r < mr; r++) {
            long cRow = cOff + (long) (i + r) * ldc + j;
            for (int v = 0; v < nr; v += V) epilogueVector(c, (cRow + v) * 4, Math.min(V, nr - v), ep, i + r, j + v);
            if (scalarAct) applyScalarActivation(c, cRow, nr, ep);
        }
    }

    /**
     * One vector of C (the first {@code valid} lanes) at byte offset {@code cb} = alpha·tile + beta·C (first k block)
     * or + C (later blocks), then the epilogue {@code e} (null: none) for C[row][col..).
     */
    private static void storeVector(float[] tile, int t, MemorySegment c, long cb, int valid, float alpha, float beta,
            boolean first, GemmEpilogue e, int row, int col) {
        if (valid == V) storeFull(tile, t, c, cb, alpha, beta, first, e, row, col);
        else storeMasked(tile, t, c, cb, valid, alpha, beta, first, e, row, col);
    }

    /*
     * The merge (alpha, beta, earlier k blocks) and the epilogue are separate methods: one method doing both with a
     * mask is too large for C1's tier-3 register allocator ("out of virtual registers in linear scan"), and a method
     * C1 skips stays in tier-2 code without Vector API intrinsics for good (seconds per call in a model).
     */
    private static void storeFull(float[] tile, int t, MemorySegment c, long cb, float alpha, float beta, boolean first,
            GemmEpilogue e, int row, int col) {
        mergeFull(tile, t, c, cb, alpha, beta, first);
        if (e != null) epilogueFull(c, cb, e, row, col);
    }

    private static void storeMasked(float[] tile, int t, MemorySegment c, long cb, int valid, float alpha, float beta,
            boolean first, GemmEpilogue e, int row, int col) {
        mergeMasked(tile, t, c, cb, valid, alpha, beta, first);
        if (e != null) epilogueMasked(c, cb, valid, e, row, col);
    }

    /** C vector at byte offset cb = alpha·tile + beta·C (first k block) or alpha·tile + C (later blocks). */
    private static void mergeFull(float[] tile, int t, MemorySegment c, long cb, float alpha, float beta, boolean first) {
        FloatVector acc = FloatVector.fromArray(S, tile, t);
        if (alpha != 1f) acc = acc.mul(alpha);
        if (!first) acc = acc.add(FloatVector.fromMemorySegment(S, c, cb, NO));
        else if (beta != 0f) acc = FloatVector.fromMemorySegment(S, c, cb, NO).mul(beta).add(acc);
        acc.intoMemorySegment(c, cb, NO);
    }

    /** {@link #mergeFull} on the first {@code valid} lanes. */
    private static void mergeMasked(float[] tile, int t, MemorySegment c, long cb, int valid, float alpha, float beta,
            boolean first) {
        VectorMask<Float> m = S.indexInRange(0, valid);
        FloatVector acc = FloatVector.fromArray(S, tile, t, m);
        if (alpha != 1f) acc = acc.mul(alpha);
        if (!first) acc = acc.add(FloatVector.fromMemorySegment(S, c, cb, NO, m));
        else if (beta != 0f) acc = FloatVector.fromMemorySegment(S, c, cb, NO, m).mul(beta).add(acc);
        acc.intoMemorySegment(c, cb, NO, m);
    }

    /** The epilogue {@code e} in place on one vector of C (the first {@code valid} lanes) at byte offset {@code cb}. */
    private static void epilogueVector(MemorySegment c, long cb, int valid, GemmEpilogue e, int row, int col) {
        if (valid == V) epilogueFull(c, cb, e, row, col);
        else epilogueMasked(c, cb, valid, e, row, col);
    }

    private static void epilogueFull(MemorySegment c, long cb, GemmEpilogue e, int row, int col) {
        FloatVector acc = FloatVector.fromMemorySegment(S, c, cb, NO);
        if (e.rowBias() != null) acc = acc.add(e.rowBias().get(F, (e.rowBiasOffset() + row) * 4));
        if (e.colBias() != null) acc = acc.add(FloatVector.fromMemorySegment(S, e.colBias(), (e.colBiasOffset() + col) * 4, NO));
        if (e.residual() != null) {
            acc = acc.add(FloatVector.fromMemorySegment(S, e.residual(),
                    (e.residualOffset() + (long) row * e.ldResidual() + col) * 4, NO));
        }
        Activation act = e.act();
        if (act == Activation.RELU) acc = acc.max(0f);
        else if (act == Activation.LEAKY_RELU) acc = acc.blend(acc.mul(e.activation().a()), acc.compare(VectorOperators.LT, 0f));
        else if (act == Activation.CLIP) acc = acc.max(e.activation().a()).min(e.activation().b());
        acc.intoMemorySegment(c, cb, NO);
    }

    private static void epilogueMasked(MemorySegment c, long cb, int valid, GemmEpilogue e, int row, int col) {
        VectorMask<Float> m = S.indexInRange(0, valid);
        FloatVector acc = FloatVector.fromMemorySegment(S, c, cb, NO, m);
        if (e.rowBias() != null) acc = acc.add(e.rowBias().get(F, (e.rowBiasOffset() + row) * 4));
        if (e.colBias() != null) acc = acc.add(FloatVector.fromMemorySegment(S, e.colBias(), (e.colBiasOffset() + col) * 4, NO, m));
        if (e.residual() != null) {
            acc = acc.add(FloatVector.fromMemorySegment(S, e.residual(),
                    (e.residualOffset() + (long) row * e.ldResidual() + col) * 4, NO, m));
        }
        Activation act = e.act();
        if (act == Activation.RELU) acc = acc.max(0f);
        else if (act == Activation.LEAKY_RELU) acc = acc.blend(acc.mul(e.activation().a()), acc.compare(VectorOperators.LT, 0f));
        else if (act == Activation.CLIP) acc = acc.max(e.activation().a()).min(e.activation().b());
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
