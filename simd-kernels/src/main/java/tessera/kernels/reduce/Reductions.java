package tessera.kernels.reduce;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
import tessera.kernels.ComputePool;
import tessera.kernels.eltwise.TensorArgs;
import tessera.memory.DType;
import tessera.memory.Tensor;
import tessera.memory.Workspace;

/**
 * Sum, mean, max over chosen axes (keepdim) and argmax along one axis.
 *
 * <p>{@code out} has x's shape with the reduced axes set to 1. Axes may be negative; duplicates are rejected; an
 * empty axis list copies x. Non-contiguous x or out go through a contiguous copy (correct, slower, allocates).
 *
 * <p>F32 summation order (fixed by the shapes only, so results do not depend on the thread count): after merging
 * adjacent axes, when the innermost run is reduced, each output is the float64 sum, in a fixed order, of float32
 * Vector API sums of runs of at most {@value #RUN} contiguous elements (grouped into fixed blocks that may be summed
 * on different threads, then added in block order); the error is about {@code RUN·ε₃₂·Σ|x|} per block. When the
 * innermost run is kept, each output is a float32 sum over the reduced rows in row order (error up to
 * {@code rows·ε₃₂·Σ|x|}). F64 takes the float64 reference loops.
 */
public final class Reductions {
    private static final VectorSpecies<Float> S = tessera.kernels.Species.FLOAT;
    private static final ByteOrder NO = ByteOrder.nativeOrder();
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT_UNALIGNED;
    /** Longest contiguous run summed in float32 before the float64 accumulation. */
    static final int RUN = 1 << 14;
    private static final int SUM = 0, MAX = 1;
    /** Workspace slot used for per-block partial results. */
    /** Per-cell partial sums. */
    private static final Workspace.Slot SLOT = Workspace.slot("reduce.partials");

    private Reductions() {}

    /**
     * {@code out[j] = Σ_r x[r, j]} for a contiguous float32 x seen as rows of out.numel() elements (its leading axes
     * summed) into a contiguous float32 out: row 0, then each next row added in order, in float32 — the bits of
     * {@link #sum} over those axes — with no heap allocation (a linear layer's bias gradient in every training step).
     */
    public static void sumRowsF32(Tensor x, Tensor out) {
        TensorArgs.requireDType("x", x, DType.F32);
        TensorArgs.requireDType("out", out, DType.F32);
        long width = out.numel();
        if (!x.isContiguous() || !out.isContiguous() || width == 0 || x.numel() % width != 0) {
            throw new IllegalArgumentException("sumRowsF32: expected a contiguous x whose elements are whole rows of a contiguous "
                    + "out's, got x " + TensorArgs.str(x) + " and out " + TensorArgs.str(out));
        }
        long rows = x.numel() / width;
        MemorySegment xs = x.segment(), os = out.segment();
        long xo = TensorArgs.byteOffset(x), oo = TensorArgs.byteOffset(out);
        if (rows == 0) {
            out.fill(0);
            return;
        }
        MemorySegment.copy(xs, xo, os, oo, 4 * width);
        for (long r = 1; r < rows; r++) addInto(xs, xo + 4 * r * width, os, oo, width);
    }

    /** {@code out = Σ_axes x} (keepdim). */
    public static void sum(Tensor x, int[] axes, Tensor out) { reduce(SUM, false, x, axes, out); }

    /** {@code out = mean_axes x} (keepdim). */
    public static void mean(Tensor x, int[] axes, Tensor out) { reduce(SUM, true, x, axes, out); }

    /** {@code out = max_axes x} (keepdim); NaN propagates. */
    public static void max(Tensor x, int[] axes, Tensor out) { reduce(MAX, false, x, axes, out); }

    /**
     * {@code out[..., 0, ...] = argmax_k x[..., k, ...]} along {@code axis}: the first index of the maximum (NaN counts
     * as the maximum, as PyTorch). out is I64 with x's shape and dim(axis) = 1.
     */
    public static void argmax(Tensor x, int axis, Tensor out) {
        TensorArgs.requireFloat("x", x);
        int a = TensorArgs.axis("axis", axis, x.rank());
        int[] os = x.shape();
        if (os[a] == 0) throw new IllegalArgumentException("argmax over axis " + a + " of size 0 (x shape " + TensorArgs.str(x) + ")");
        os[a] = 1;
        TensorArgs.requireDType("out", out, DType.I64);
        TensorArgs.requireShape("out", out, os, "x's shape with dim(axis) = 1");
        int[] s = x.shape();
        long outer = TensorArgs.product(s, 0, a), len = s[a], inner = TensorArgs.product(s, a + 1, s.length);
        long[] idx = new long[(int) (outer * inner)];
        if (x.dtype() == DType.F32 && x.isContiguous()) {
            MemorySegment xs = x.segment();
            long xo = TensorArgs.byteOffset(x);
            for (long o = 0; o < outer; o++) {
                for (long i = 0; i < inner; i++) {
                    long base = xo + 4 * (o * len * inner + i);
                    float best = xs.get(F, base);
                    long bk = 0;
                    for (long k = 1; k < len && best == best; k++) {
                        float v = xs.get(F, base + 4 * k * inner);
                        if (v > best || v != v) { best = v; bk = k; }
                    }
                    idx[(int) (o * inner + i)] = bk;
                }
            }
        } else {
            double[] xs = x.toDoubleArray();
            for (long o = 0; o < outer; o++) {
                for (long i = 0; i < inner; i++) {
                    double best = xs[(int) (o * len * inner + i)];
                    long bk = 0;
                    for (long k = 1; k < len && !Double.isNaN(best); k++) {
                        double v = xs[(int) ((o * len + k) * inner + i)];
                        if (v > best || Double.isNaN(v)) { best = v; bk = k; }
                    }
                    idx[(int) (o * inner + i)] = bk;
                }
            }
        }
        TensorArgs.storeLongs(out, idx);
    }

    // ------------------------------------------------------------------------------------------------ common

    private static boolean[] reducedAxes(Tensor x, int[] axes) {
        if (axes == null) throw new IllegalArgumentException("axes must not be null (use an empty array for none)");
        boolean[] red = new boolean[x.rank()];
        for (int ax : axes) {
            int a = TensorArgs.axis("axes[]", ax, x.rank());
            if (red[a]) throw new IllegalArgumentException("axes " + Arrays.toString(axes) + " repeat axis " + a);
            red[a] = true;
        }
        return red;
    }

    private static void reduce(int kind, boolean mean, Tensor x, int[] axes, Tensor out) {
        TensorArgs.requireFloat("x", x);
        boolean[] red = reducedAxes(x, axes);
        int[] os = x.shape();
        for (int i = 0; i < os.length; i++) if (red[i]) os[i] = 1;
        TensorArgs.requireSameDType("out", out, "x", x);
        TensorArgs.requireShape("out", out, os, "x's shape " + TensorArgs.str(x) + " with axes " + Arrays.toString(axes) + " set to 1");
        long count = out.numel() == 0 ? 0 : x.numel() / out.numel();
        if (kind == MAX && count == 0 && out.numel() > 0) {
            throw new IllegalArgumentException("max over an empty axis (x shape " + TensorArgs.str(x) + ", axes " + Arrays.toString(axes) + ")");
        }
        if (x.dtype() == DType.F64) {
            reference(kind, mean, x, red, out);
            return;
        }
        if (!TensorArgs.allContiguous(x, out)) {
            try (Tensor xc = x.copy(); Tensor oc = Tensor.zeros(DType.F32, os)) {
                reduce(kind, mean, xc, axes, oc);
                out.copyFrom(oc);
            }
            return;
        }
        reduceF32(kind, mean ? 1.0 / count : 1.0, x, red, out);
    }

    /** The float64 reference: every x element adds into (or maxes into) the output element with reduced coordinates 0. */
    private static void reference(int kind, boolean mean, Tensor x, boolean[] red, Tensor out) {
        int[] shape = x.shape();
        double[] xs = x.toDoubleArray();
        double[] acc = new double[(int) out.numel()];
        Arrays.fill(acc, kind == MAX ? Double.NEGATIVE_INFINITY : 0);
        int[] idx = new int[shape.length];
        for (double v : xs) {
            long o = 0;
            for (int d = 0; d < shape.length; d++) o = o * (red[d] ? 1 : shape[d]) + (red[d] ? 0 : idx[d]);
            acc[(int) o] = kind == MAX ? (Double.isNaN(v) || Double.isNaN(acc[(int) o]) ? Double.NaN : Math.max(acc[(int) o], v))
                    : acc[(int) o] + v;
            for (int d = shape.length - 1; d >= 0; d--) {
                if (++idx[d] < shape[d]) break;
                idx[d] = 0;
            }
        }
        if (mean) {
            long count = acc.length == 0 ? 0 : xs.length / acc.length;
            for (int i = 0; i < acc.length; i++) acc[i] /= count;
        }
        TensorArgs.store(out, acc);
    }

    // ------------------------------------------------------------------------------------------------ float32

    private static void reduceF32(int kind, double scale, Tensor x, boolean[] red, Tensor out) {
        int[] shape = x.shape();
        if (out.numel() == 0) return;
        if (x.numel() == 0) {                       // reducing empty axes: sum 0, mean 0/0 (max was rejected)
            out.fill(scale == 1.0 ? 0 : Double.NaN);
            return;
        }
        // merge adjacent axes of the same kind (x is contiguous), dropping size-1 axes
        long[] gsize = new long[shape.length + 1];
        boolean[] gred = new boolean[shape.length + 1];
        int g = 0;
        for (int i = 0; i < shape.length; i++) {
            if (shape[i] == 1) continue;
            if (g > 0 && gred[g - 1] == red[i]) {
                gsize[g - 1] *= shape[i];
            } else {
                gsize[g] = shape[i];
                gred[g] = red[i];
                g++;
            }
        }
        boolean anyReduced = false;
        for (int i = 0; i < g; i++) anyReduced |= gred[i];
        MemorySegment xs = x.segment(), os = out.segment();
        long xo = TensorArgs.byteOffset(x), oo = TensorArgs.byteOffset(out);
        if (!anyReduced) {
            MemorySegment.copy(xs, xo, os, oo, 4 * x.numel());
            return;
        }
        // outer groups (all but the last): strides in elements
        int outerGroups = g - 1;
        long[] gstride = new long[Math.max(outerGroups, 1)];
        long st = gsize[g - 1];
        for (int i = outerGroups - 1; i >= 0; i--) {
            gstride[i] = st;
            st *= gsize[i];
        }
        long keptOuter = 1, redOuter = 1;
        for (int i = 0; i < outerGroups; i++) {
            if (gred[i]) redOuter *= gsize[i];
            else keptOuter *= gsize[i];
        }
        long last = gsize[g - 1];
        Geometry geo = new Geometry(outerGroups, gsize, gred, gstride);
        if (gred[g - 1]) {
            reduceInnerRuns(kind, (float) scale, xs, xo, os, oo, geo, keptOuter, redOuter, last);
        } else {
            reduceRows(kind, (float) scale, xs, xo, os, oo, geo, keptOuter, redOuter, last);
        }
    }

    /** Mixed-radix decomposition of kept-outer and reduced-outer indices into element offsets. */
    private record Geometry(int groups, long[] size, boolean[] red, long[] stride) {
        long keptOffset(long o) {
            long off = 0;
            for (int d = groups - 1; d >= 0; d--) {
                if (red[d]) continue;
                off += (o % size[d]) * stride[d];
                o /= size[d];
            }
            return off;
        }

        long reducedOffset(long r) {
            long off = 0;
            for (int d = groups - 1; d >= 0; d--) {
                if (!red[d]) continue;
                off += (r % size[d]) * stride[d];
                r /= size[d];
            }
            return off;
        }
    }

    /** Innermost run reduced: out[o] = combine over units (r, chunk) of f32 run results, in fixed blocks. */
    private static void reduceInnerRuns(int kind, float scale, MemorySegment xs, long xo, MemorySegment os, long oo,
                                        Geometry geo, long outs, long redOuter, long last) {
        long chunks = (last + RUN - 1) / RUN;
        long units = redOuter * chunks;
        long unitLen = Math.min(last, RUN);
        long perBlock = Math.max(1, RUN / unitLen);
        long blocks = (units + perBlock - 1) / perBlock;
        long work = outs * redOuter * last;
        int threads = work < (1 << 15) ? 1 : ComputePool.threads();
        if (outs >= 4L * threads || blocks == 1) {
            int tasks = (int) Math.min(outs, threads);
            ComputePool.parallelFor(tasks, t -> {
                for (long o = outs * t / tasks; o < outs * (t + 1) / tasks; o++) {
                    double acc = kind == MAX ? Double.NEGATIVE_INFINITY : 0;
                    for (long b = 0; b < blocks; b++) {
                        acc = combine(kind, acc, blockF32(kind, xs, xo, geo, o, b, perBlock, units, chunks, last));
                    }
                    os.set(F, oo + 4 * o, (float) (acc * scale));
                }
            });
            return;
        }
        long cells = outs * blocks;
        MemorySegment partial = Workspace.ofCurrentThread().doubles(SLOT, cells);
        int tasks = (int) Math.min(cells, threads * 4L);
        ComputePool.parallelFor(tasks, t -> {
            for (long c = cells * t / tasks; c < cells * (t + 1) / tasks; c++) {
                partial.setAtIndex(ValueLayout.JAVA_DOUBLE, c,
                        blockF32(kind, xs, xo, geo, c / blocks, c % blocks, perBlock, units, chunks, last));
            }
        });
        for (long o = 0; o < outs; o++) {
            double acc = kind == MAX ? Double.NEGATIVE_INFINITY : 0;
            for (long b = 0; b < blocks; b++) acc = combine(kind, acc, partial.getAtIndex(ValueLayout.JAVA_DOUBLE, o * blocks + b));
            os.set(F, oo + 4 * o, (float) (acc * scale));
        }
    }

    private static double combine(int kind, double acc, double v) {
        if (kind == SUM) return acc + v;
        return Double.isNaN(v) || Double.isNaN(acc) ? Double.NaN : Math.max(acc, v);
    }

    /** Units [b·perBlock, ...) of output o, combined in float64 in unit order. */
    private static double blockF32(int kind, MemorySegment xs, long xo, Geometry geo, long o, long b, long perBlock,
                                   long units, long chunks, long last) {
        long base = geo.keptOffset(o);
        double acc = kind == MAX ? Double.NEGATIVE_INFINITY : 0;
        for (long u = b * perBlock, end = Math.min(units, u + perBlock); u < end; u++) {
            long r = u / chunks, ch = u % chunks;
            long start = ch * RUN, len = Math.min(RUN, last - start);
            long off = xo + 4 * (base + geo.reducedOffset(r) + start);
            float v = kind == SUM ? sumRun(xs, off, len) : maxRun(xs, off, len);
            acc = combine(kind, acc, v);
        }
        return acc;
    }

    /** f32-rsum: sum of n contiguous floats at byte offset off, 4 vector accumulators. */
    static float sumRun(MemorySegment xs, long off, long n) {
        int l = S.length();
        FloatVector a0 = FloatVector.zero(S), a1 = a0, a2 = a0, a3 = a0;
        long i = 0;
        for (long end = n - 4L * l; i <= end; i += 4L * l) {
            a0 = a0.add(FloatVector.fromMemorySegment(S, xs, off + 4 * i, NO));
            a1 = a1.add(FloatVector.fromMemorySegment(S, xs, off + 4 * (i + l), NO));
            a2 = a2.add(FloatVector.fromMemorySegment(S, xs, off + 4 * (i + 2L * l), NO));
            a3 = a3.add(FloatVector.fromMemorySegment(S, xs, off + 4 * (i + 3L * l), NO));
        }
        for (long end = n - l; i <= end; i += l) a0 = a0.add(FloatVector.fromMemorySegment(S, xs, off + 4 * i, NO));
        float[] lanes = tessera.kernels.Lanes.scratch(); // not Lanes.sum(vector): see Lanes.scratch
        a0.add(a1).add(a2.add(a3)).intoArray(lanes, 0);
        float s = tessera.kernels.Lanes.sum(lanes, 0, a0.length());
        for (; i < n; i++) s += xs.get(F, off + 4 * i);
        return s;
    }

    /** f32-rmax: max of n >= 1 contiguous floats (NaN propagates). */
    static float maxRun(MemorySegment xs, long off, long n) {
        int l = S.length();
        long i = 0;
        float m = Float.NEGATIVE_INFINITY;
        if (n >= l) {
            FloatVector a0 = FloatVector.broadcast(S, Float.NEGATIVE_INFINITY), a1 = a0;
            for (long end = n - 2L * l; i <= end; i += 2L * l) {
                a0 = a0.max(FloatVector.fromMemorySegment(S, xs, off + 4 * i, NO));
                a1 = a1.max(FloatVector.fromMemorySegment(S, xs, off + 4 * (i + l), NO));
            }
            for (long end = n - l; i <= end; i += l) a0 = a0.max(FloatVector.fromMemorySegment(S, xs, off + 4 * i, NO));
            m = a0.max(a1).reduceLanes(VectorOperators.MAX);
        }
        for (; i < n; i++) m = Math.max(m, xs.get(F, off + 4 * i));
        return m;
    }

    /** Innermost run kept (length B): out[o, j] = combine over reduced rows r (in order) of x[o, r, j], in float32. */
    private static void reduceRows(int kind, float scale, MemorySegment xs, long xo, MemorySegment os, long oo,
                                   Geometry geo, long outs, long rows, long width) {
        long work = outs * rows * width;
        int threads = work < (1 << 15) ? 1 : ComputePool.threads();
        if (outs >= threads) {
            int tasks = threads;
            ComputePool.parallelFor(tasks, t -> {
                for (long o = outs * t / tasks; o < outs * (t + 1) / tasks; o++) rowBlockF32(kind, scale, xs, xo, os, oo, geo, o, rows, width, 0, width);
            });
        } else {
            long cols = (width + 63) / 64;
            int tasks = (int) Math.min(threads, cols);
            ComputePool.parallelFor(tasks, t -> {
                long c0 = Math.min(width, cols * t / tasks * 64), c1 = Math.min(width, cols * (t + 1) / tasks * 64);
                for (long o = 0; o < outs; o++) rowBlockF32(kind, scale, xs, xo, os, oo, geo, o, rows, width, c0, c1);
            });
        }
    }

    /** Columns [c0, c1) of output row o: out row = x row 0, then out row (+= or max=) x row r for r = 1.., in order. */
    private static void rowBlockF32(int kind, float scale, MemorySegment xs, long xo, MemorySegment os, long oo,
                                    Geometry geo, long o, long rows, long width, long c0, long c1) {
        long base = geo.keptOffset(o);
        long ob = oo + 4 * (o * width + c0);
        long n = c1 - c0;
        MemorySegment.copy(xs, xo + 4 * (base + geo.reducedOffset(0) + c0), os, ob, 4 * n);
        for (long r = 1; r < rows; r++) {
            long xb = xo + 4 * (base + geo.reducedOffset(r) + c0);
            if (kind == SUM) addInto(xs, xb, os, ob, n);
            else maxInto(xs, xb, os, ob, n);
        }
        if (scale != 1f) scaleInPlace(scale, os, ob, n);
    }

    private static void addInto(MemorySegment xs, long xb, MemorySegment os, long ob, long n) {
        long j = 0;
        for (long end = S.loopBound(n); j < end; j += S.length()) {
            FloatVector.fromMemorySegment(S, os, ob + 4 * j, NO).add(FloatVector.fromMemorySegment(S, xs, xb + 4 * j, NO))
                    .intoMemorySegment(os, ob + 4 * j, NO);
        }
        for (; j < n; j++) os.set(F, ob + 4 * j, os.get(F, ob + 4 * j) + xs.get(F, xb + 4 * j));
    }

    private static void maxInto(MemorySegment xs, long xb, MemorySegment os, long ob, long n) {
        long j = 0;
        for (long end = S.loopBound(n); j < end; j += S.length()) {
            FloatVector.fromMemorySegment(S, os, ob + 4 * j, NO).max(FloatVector.fromMemorySegment(S, xs, xb + 4 * j, NO))
                    .intoMemorySegment(os, ob + 4 * j, NO);
        }
        for (; j < n; j++) os.set(F, ob + 4 * j, Math.max(os.get(F, ob + 4 * j), xs.get(F, xb + 4 * j)));
    }

    private static void scaleInPlace(float scale, MemorySegment os, long ob, long n) {
        long j = 0;
        for (long end = S.loopBound(n); j < end; j += S.length()) {
            FloatVector.fromMemorySegment(S, os, ob + 4 * j, NO).mul(scale).intoMemorySegment(os, ob + 4 * j, NO);
        }
        for (; j < n; j++) os.set(F, ob + 4 * j, os.get(F, ob + 4 * j) * scale);
    }
}
