package tessera.kernels.reduce;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
import tessera.kernels.ComputePool;
import tessera.kernels.VectorMath;
import tessera.kernels.eltwise.TensorArgs;
import tessera.memory.DType;
import tessera.memory.Tensor;

/**
 * Softmax and log-softmax along one axis, forward and backward; numerically stable (the maximum along the axis is
 * subtracted before exponentiation, so logits of ±1e4 give exact 0/1 probabilities instead of NaN).
 *
 * <p>Shapes: any rank; x, y, dy, dx of one shape. Viewing the tensor as {@code [outer, len, inner]} around the
 * axis, the F32 path vectorizes along the axis when {@code inner == 1} and across {@code inner} otherwise; every
 * softmax row is computed by one thread in a fixed order (results independent of the thread count). exp is
 * {@link VectorMath#exp} (within 2 ulp; the same bits before and after JIT compilation); sums accumulate in float32
 * lanes, so the relative error grows like {@code len·ε₃₂} in the worst case. F64 tensors take the float64 reference.
 * Non-contiguous tensors go through a contiguous copy.
 */
public final class Softmax {
    private static final VectorSpecies<Float> S = tessera.kernels.Species.FLOAT;
    private static final ByteOrder NO = ByteOrder.nativeOrder();
    private static final int FWD = 0, LOG = 1, BWD = 2, LOG_BWD = 3;

    private Softmax() {}

    /** {@code y = exp(x − max) / Σ exp(x − max)} along axis. y may be x. */
    public static void forward(Tensor x, int axis, Tensor y) { run(FWD, x, null, axis, y); }

    /** {@code y = x − max − log Σ exp(x − max)} along axis. y may be x. */
    public static void logForward(Tensor x, int axis, Tensor y) { run(LOG, x, null, axis, y); }

    /** {@code dx = y ⊙ (dy − Σ_axis dy ⊙ y)}, y the softmax output. */
    public static void backward(Tensor y, Tensor dy, int axis, Tensor dx) { run(BWD, y, dy, axis, dx); }

    /** {@code dx = dy − exp(y) · Σ_axis dy}, y the log-softmax output. */
    public static void logBackward(Tensor y, Tensor dy, int axis, Tensor dx) { run(LOG_BWD, y, dy, axis, dx); }

    private static void run(int kind, Tensor x, Tensor g, int axis, Tensor out) {
        String xn = kind >= BWD ? "y" : "x", on = kind >= BWD ? "dx" : "y";
        TensorArgs.requireFloat(xn, x);
        if (g != null) TensorArgs.requireSameShape("dy", g, xn, x);
        TensorArgs.requireSameShape(on, out, xn, x);
        int a = TensorArgs.axis("axis", axis, x.rank());
        int[] s = x.shape();
        long outer = TensorArgs.product(s, 0, a), len = s[a], inner = TensorArgs.product(s, a + 1, s.length);
        if (x.dtype() == DType.F64) {
            double[] xs = x.toDoubleArray(), gs = g == null ? null : g.toDoubleArray();
            TensorArgs.store(out, reference(kind, xs, gs, (int) outer, (int) len, (int) inner));
            return;
        }
        if (!TensorArgs.allContiguous(x, g, out)) {
            try (Tensor xc = x.copy(); Tensor gc = g == null ? null : g.copy(); Tensor oc = Tensor.zeros(DType.F32, s)) {
                run(kind, xc, gc, axis, oc);
                out.copyFrom(oc);
            }
            return;
        }
        if (len == 0 || x.numel() == 0) return;
        MemorySegment xs = x.segment(), os = out.segment(), gs = g == null ? xs : g.segment();
        long xo = TensorArgs.byteOffset(x), oo = TensorArgs.byteOffset(out), go = g == null ? 0 : TensorArgs.byteOffset(g);
        long strips = inner == 1 ? 1 : (inner + 63) / 64;
        long units = outer * strips;
        int tasks = (int) Math.min(units, x.numel() < (1 << 14) ? 1 : ComputePool.threads());
        ComputePool.parallelFor(tasks, t -> {
            for (long u = units * t / tasks; u < units * (t + 1) / tasks; u++) {
                long o = u / strips, st = u % strips;
                long base = 4 * o * len * inner;
                if (inner == 1) {
                    rowF32(kind, xs, xo + base, gs, go + base, os, oo + base, len);
                } else {
                    long j0 = st * 64, j1 = Math.min(inner, j0 + 64);
                    for (long j = j0; j < j1; j += S.length()) {
                        colsF32(kind, xs, xo + base + 4 * j, gs, go + base + 4 * j, os, oo + base + 4 * j, len, inner,
                                S.indexInRange(j, j1));
                    }
                }
            }
        });
    }

    // ------------------------------------------------------------------------------------------- reference

    /** The formulas in float64 over a row-major [outer, len, inner] array. */
    static double[] reference(int kind, double[] x, double[] g, int outer, int len, int inner) {
        double[] out = new double[x.length];
        for (int o = 0; o < outer; o++) {
            for (int j = 0; j < inner; j++) {
                int base = o * len * inner + j;
                if (kind == FWD || kind == LOG) {
                    double max = Double.NEGATIVE_INFINITY;
                    for (int k = 0; k < len; k++) max = Math.max(max, x[base + k * inner]);
                    double sum = 0;
                    for (int k = 0; k < len; k++) sum += Math.exp(x[base + k * inner] - max);
                    for (int k = 0; k < len; k++) {
                        double v = x[base + k * inner] - max;
                        out[base + k * inner] = kind == FWD ? Math.exp(v) / sum : v - Math.log(sum);
                    }
                } else if (kind == BWD) {               // x holds y = softmax
                    double dot = 0;
                    for (int k = 0; k < len; k++) dot += g[base + k * inner] * x[base + k * inner];
                    for (int k = 0; k < len; k++) out[base + k * inner] = x[base + k * inner] * (g[base + k * inner] - dot);
                } else {                                // x holds y = log-softmax
                    double sum = 0;
                    for (int k = 0; k < len; k++) sum += g[base + k * inner];
                    for (int k = 0; k < len; k++) out[base + k * inner] = g[base + k * inner] - Math.exp(x[base + k * inner]) * sum;
                }
            }
        }
        return out;
    }

    // ------------------------------------------------------------------------------------------- float32

    private static FloatVector ld(MemorySegment s, long off, VectorMask<Float> m) {
        return FloatVector.fromMemorySegment(S, s, off, NO, m);
    }

    /** One contiguous row of len floats (byte offsets). */
    static void rowF32(int kind, MemorySegment xs, long xo, MemorySegment gs, long go, MemorySegment os, long oo, long len) {
        switch (kind) {
            case FWD -> {
                float max = rowMax(xs, xo, len);
                float sum = rowExpSum(xs, xo, os, oo, len, max, true);
                rowAffine(os, oo, os, oo, len, 1f / sum, 0f);
            }
            case LOG -> {
                float max = rowMax(xs, xo, len);
                float logSum = (float) Math.log(rowExpSum(xs, xo, os, oo, len, max, false));
                rowAffine(xs, xo, os, oo, len, 1f, max);            // (x − max) ...
                rowAffine(os, oo, os, oo, len, 1f, logSum);         // ... − log Σ (no rounding of max + log Σ at 1e4)
            }
            case BWD -> rowSoftmaxBackward(xs, xo, gs, go, os, oo, len);
            default -> rowLogSoftmaxBackward(xs, xo, gs, go, os, oo, len);
        }
    }

    private static float rowMax(MemorySegment xs, long xo, long len) {
        FloatVector mv = FloatVector.broadcast(S, Float.NEGATIVE_INFINITY);
        long i = 0;
        for (long end = S.loopBound(len); i < end; i += S.length()) mv = mv.max(FloatVector.fromMemorySegment(S, xs, xo + 4 * i, NO));
        float m = mv.reduceLanes(VectorOperators.MAX);
        for (; i < len; i++) m = Math.max(m, xs.get(java.lang.foreign.ValueLayout.JAVA_FLOAT_UNALIGNED, xo + 4 * i));
        return m;
    }

    /**
     * Σ exp(x − max), storing the exponentials when asked; the tail uses a masked vector (same lane arithmetic). The
     * whole vectors and the tail are two methods with one {@link VectorMath#exp} call each, passing the lane sums
     * through the per-thread scratch array: with both calls in one method C2 did not inline exp at the tail's and
     * boxed its vectors (two heap objects per softmax row of a training step).
     */
    private static float rowExpSum(MemorySegment xs, long xo, MemorySegment os, long oo, long len, float max, boolean store) {
        float[] lanes = tessera.kernels.Lanes.scratch();
        long i = rowExpSumWhole(xs, xo, os, oo, len, max, store, lanes);
        if (i < len) rowExpSumTail(xs, xo, os, oo, i, len, max, store, lanes);
        return tessera.kernels.Lanes.sum(lanes, 0, S.length());
    }

    /** The whole vectors of {@link #rowExpSum}: their lane sums into lanes[0, VL); returns where the tail starts. */
    private static long rowExpSumWhole(MemorySegment xs, long xo, MemorySegment os, long oo, long len, float max, boolean store,
                                       float[] lanes) {
        FloatVector sv = FloatVector.zero(S);
        long i = 0;
        for (long end = S.loopBound(len); i < end; i += S.length()) {
            FloatVector e = VectorMath.exp(FloatVector.fromMemorySegment(S, xs, xo + 4 * i, NO).sub(max));
            sv = sv.add(e);
            if (store) e.intoMemorySegment(os, oo + 4 * i, NO);
        }
        sv.intoArray(lanes, 0);
        return i;
    }

    /** The masked tail [i, len) of {@link #rowExpSum}, added into the lane sums in lanes[0, VL). */
    private static void rowExpSumTail(MemorySegment xs, long xo, MemorySegment os, long oo, long i, long len, float max,
                                      boolean store, float[] lanes) {
        VectorMask<Float> m = S.indexInRange(i, len);
        FloatVector e = VectorMath.exp(ld(xs, xo + 4 * i, m).sub(max));
        FloatVector.fromArray(S, lanes, 0).add(e, m).intoArray(lanes, 0);
        if (store) e.intoMemorySegment(os, oo + 4 * i, NO, m);
    }

    /** Lanes.sum through the per-thread scratch array: these row kernels run a few times per step (see Lanes.scratch). */
    private static float laneSum(FloatVector v) {
        float[] lanes = tessera.kernels.Lanes.scratch();
        v.intoArray(lanes, 0);
        return tessera.kernels.Lanes.sum(lanes, 0, v.length());
    }

    /** o = x·scale − shift. */
    private static void rowAffine(MemorySegment xs, long xo, MemorySegment os, long oo, long len, float scale, float shift) {
        long i = 0;
        for (long end = S.loopBound(len); i < end; i += S.length()) {
            FloatVector.fromMemorySegment(S, xs, xo + 4 * i, NO).mul(scale).sub(shift).intoMemorySegment(os, oo + 4 * i, NO);
        }
        if (i < len) {
            VectorMask<Float> m = S.indexInRange(i, len);
            ld(xs, xo + 4 * i, m).mul(scale).sub(shift).intoMemorySegment(os, oo + 4 * i, NO, m);
        }
    }

    private static void rowSoftmaxBackward(MemorySegment xs, long xo, MemorySegment gs, long go, MemorySegment os, long oo, long len) {
        FloatVector dv = FloatVector.zero(S);
        long i = 0;
        for (long end = S.loopBound(len); i < end; i += S.length()) {
            dv = FloatVector.fromMemorySegment(S, gs, go + 4 * i, NO).fma(FloatVector.fromMemorySegment(S, xs, xo + 4 * i, NO), dv);
        }
        if (i < len) {
            VectorMask<Float> m = S.indexInRange(i, len);
            dv = ld(gs, go + 4 * i, m).fma(ld(xs, xo + 4 * i, m), dv);
        }
        float dot = laneSum(dv);
        for (i = 0; i < len; i += S.length()) {
            VectorMask<Float> m = S.indexInRange(i, len);
            ld(xs, xo + 4 * i, m).mul(ld(gs, go + 4 * i, m).sub(dot)).intoMemorySegment(os, oo + 4 * i, NO, m);
        }
    }

    private static void rowLogSoftmaxBackward(MemorySegment xs, long xo, MemorySegment gs, long go, MemorySegment os, long oo, long len) {
        FloatVector sv = FloatVector.zero(S);
        for (long i = 0; i < len; i += S.length()) sv = sv.add(ld(gs, go + 4 * i, S.indexInRange(i, len)));
        float sum = laneSum(sv);
        for (long i = 0; i < len; i += S.length()) {
            VectorMask<Float> m = S.indexInRange(i, len);
            ld(gs, go + 4 * i, m).sub(VectorMath.exp(ld(xs, xo + 4 * i, m)).mul(sum)).intoMemorySegment(os, oo + 4 * i, NO, m);
        }
    }

    /** A strip of lanes (mask m) across inner positions; the axis has stride {@code inner} elements. */
    static void colsF32(int kind, MemorySegment xs, long xo, MemorySegment gs, long go, MemorySegment os, long oo,
                        long len, long inner, VectorMask<Float> m) {
        long st = 4 * inner;
        if (kind == FWD || kind == LOG) {
            FloatVector max = FloatVector.broadcast(S, Float.NEGATIVE_INFINITY);
            for (long k = 0; k < len; k++) max = max.max(ld(xs, xo + k * st, m));
            FloatVector sum = FloatVector.zero(S);
            for (long k = 0; k < len; k++) {
                FloatVector e = VectorMath.exp(ld(xs, xo + k * st, m).sub(max));
                sum = sum.add(e);
                if (kind == FWD) e.intoMemorySegment(os, oo + k * st, NO, m);
            }
            if (kind == FWD) {
                FloatVector inv = FloatVector.broadcast(S, 1f).div(sum);
                for (long k = 0; k < len; k++) ld(os, oo + k * st, m).mul(inv).intoMemorySegment(os, oo + k * st, NO, m);
            } else {
                FloatVector logSum = sum;
                // Math.log per lane, not lanewise(LOG), whose bits change when the JIT compiles it (see VectorMath)
                for (int j = 0; j < S.length(); j++) logSum = logSum.withLane(j, (float) Math.log(sum.lane(j)));
                for (long k = 0; k < len; k++) ld(xs, xo + k * st, m).sub(max).sub(logSum).intoMemorySegment(os, oo + k * st, NO, m);
            }
        } else if (kind == BWD) {
            FloatVector dot = FloatVector.zero(S);
            for (long k = 0; k < len; k++) dot = ld(gs, go + k * st, m).fma(ld(xs, xo + k * st, m), dot);
            for (long k = 0; k < len; k++) {
                ld(xs, xo + k * st, m).mul(ld(gs, go + k * st, m).sub(dot)).intoMemorySegment(os, oo + k * st, NO, m);
            }
        } else {
            FloatVector sum = FloatVector.zero(S);
            for (long k = 0; k < len; k++) sum = sum.add(ld(gs, go + k * st, m));
            for (long k = 0; k < len; k++) {
                ld(gs, go + k * st, m).sub(VectorMath.exp(ld(xs, xo + k * st, m)).mul(sum)).intoMemorySegment(os, oo + k * st, NO, m);
            }
        }
    }
}
