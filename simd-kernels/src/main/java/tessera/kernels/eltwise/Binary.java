package tessera.kernels.eltwise;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import tessera.kernels.ComputePool;
import tessera.kernels.reduce.Reductions;
import tessera.memory.DType;
import tessera.memory.Shapes;
import tessera.memory.Tensor;

/**
 * Binary arithmetic with NumPy broadcasting, the gradient-side {@link #sumToShape} and {@link #axpby}.
 *
 * <p>{@link #apply} accepts any strides for {@code a}, {@code b} and {@code out} (stride-0 expanded views included):
 * dimensions are coalesced, and the innermost run takes a Vector API loop when it is unit-stride in {@code out} and
 * unit-stride or broadcast (stride 0) in each input; otherwise a scalar loop. The operations are exact IEEE float
 * operations, so the F32 result is the correctly rounded float result and independent of the thread count.
 * F64 tensors take the float64 reference.
 */
public final class Binary {
    private static final VectorSpecies<Float> S = tessera.kernels.Species.FLOAT;
    private static final ByteOrder NO = ByteOrder.nativeOrder();
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT_UNALIGNED;

    /** The element operation. */
    public enum Op { ADD, SUB, MUL, DIV }

    private Binary() {}

    /** The NumPy broadcast of two shapes ({@link Shapes#broadcast}), or an IllegalArgumentException naming both. */
    public static int[] broadcastShape(int[] a, int[] b) { return Shapes.broadcast(a, b); }

    /** {@code out = a op b} with NumPy broadcasting; out must have the broadcast shape. out may alias a or b. */
    public static void apply(Op op, Tensor a, Tensor b, Tensor out) {
        if (op == null) throw new IllegalArgumentException("op must not be null");
        TensorArgs.requireFloat("a", a);
        TensorArgs.requireSameDType("b", b, "a", a);
        TensorArgs.requireSameDType("out", out, "a", a);
        if (a.dtype() == DType.F32 && a.sameShapeAs(b) && a.sameShapeAs(out) && TensorArgs.allContiguous(a, b, out)) {
            sameShapeF32(op.ordinal(), a, b, out); // no broadcast: no shape or stride arrays (gradient sums, every step)
            return;
        }
        int[] shape = broadcastShape(a.shape(), b.shape());
        TensorArgs.requireShape("out", out, shape, "the broadcast of a " + TensorArgs.str(a) + " and b " + TensorArgs.str(b));
        Tensor ae = a.expand(shape), be = b.expand(shape);
        if (a.dtype() == DType.F64) {
            double[] x = ae.toDoubleArray(), y = be.toDoubleArray();
            double[] z = new double[x.length];
            for (int i = 0; i < z.length; i++) z[i] = reference(op, x[i], y[i]);
            TensorArgs.store(out, z);
            return;
        }
        applyF32(op.ordinal(), shape, ae, be, out);
    }

    /**
     * {@code out = a op b} elementwise for contiguous float32 tensors of one element count (no broadcasting), on the
     * calling thread and without allocating: the planned form of an inference session's same-shape Add/Sub/Mul/Div
     * ({@link #apply} coalesces shapes and strides into fresh arrays on every call).
     */
    public static void applyContiguous(Op op, Tensor a, Tensor b, Tensor out) {
        if (op == null) throw new IllegalArgumentException("op must not be null");
        if (a.dtype() != DType.F32 || b.dtype() != DType.F32 || out.dtype() != DType.F32
                || !a.isContiguous() || !b.isContiguous() || !out.isContiguous()
                || a.numel() != out.numel() || b.numel() != out.numel()) {
            throw new IllegalArgumentException("applyContiguous needs contiguous float32 a, b and out of one element count, got a "
                    + TensorArgs.str(a) + ", b " + TensorArgs.str(b) + ", out " + TensorArgs.str(out));
        }
        vv(op.ordinal(), a.segment(), a.offset() * 4, b.segment(), b.offset() * 4, out.segment(), out.offset() * 4, out.numel());
    }

    /** a op b in float64. */
    public static double reference(Op op, double a, double b) {
        return switch (op) {
            case ADD -> a + b;
            case SUB -> a - b;
            case MUL -> a * b;
            case DIV -> a / b;
        };
    }

    /**
     * Sums {@code grad} over its broadcast dimensions into {@code out}: out's shape must broadcast to grad's shape
     * (the adjoint of broadcasting). out is overwritten. Uses {@link Reductions#sum} (its summation order).
     */
    public static void sumToShape(Tensor grad, Tensor out) {
        TensorArgs.requireFloat("grad", grad);
        TensorArgs.requireSameDType("out", out, "grad", grad);
        if (grad.dtype() == DType.F32 && grad.isContiguous() && out.isContiguous() && out.numel() > 0
                && sumsLeadingAxesOnly(grad, out)) {
            Reductions.sumRowsF32(grad, out); // a bias gradient: no shape arrays, views or closures per call
            return;
        }
        int[] g = grad.shape(), o = out.shape();
        if (o.length > g.length) {
            throw new IllegalArgumentException("out has shape " + Arrays.toString(o) + " of higher rank than grad " + Arrays.toString(g)
                    + "; expected a shape that broadcasts to grad's shape");
        }
        int lead = g.length - o.length;
        int[] full = new int[g.length];
        int count = 0;
        for (int i = 0; i < g.length; i++) {
            full[i] = i < lead ? 1 : o[i - lead];
            if (full[i] != g[i] && full[i] != 1) {
                throw new IllegalArgumentException("out has shape " + Arrays.toString(o) + " which does not broadcast to grad's shape "
                        + Arrays.toString(g) + " (dimension " + (i - lead) + ")");
            }
            if (full[i] == 1 && g[i] != 1) count++;
        }
        if (count == 0) {
            out.copyFrom(grad.reshape(o));
            return;
        }
        int[] axes = new int[count];
        for (int i = 0, k = 0; i < g.length; i++) if (full[i] == 1 && g[i] != 1) axes[k++] = i;
        Reductions.sum(grad, axes, out.reshape(full));
    }

    /** {@code y = alpha·x + beta·y}, same shape and dtype; when beta = 0, y is not read (NaNs in y vanish). */
    public static void axpby(float alpha, Tensor x, float beta, Tensor y) {
        TensorArgs.requireFloat("x", x);
        TensorArgs.requireSameShape("y", y, "x", x);
        if (x.dtype() == DType.F64) {
            double[] xs = x.toDoubleArray(), ys = y.toDoubleArray();
            for (int i = 0; i < xs.length; i++) ys[i] = beta == 0 ? alpha * xs[i] : (double) alpha * xs[i] + (double) beta * ys[i];
            TensorArgs.store(y, ys);
            return;
        }
        if (!TensorArgs.allContiguous(x, y)) {
            try (Tensor xc = x.copy(); Tensor yc = y.copy()) {
                axpby(alpha, xc, beta, yc);
                y.copyFrom(yc);
            }
            return;
        }
        long n = x.numel();
        MemorySegment xs = x.segment(), ys = y.segment();
        long xo = TensorArgs.byteOffset(x), yo = TensorArgs.byteOffset(y);
        int tasks = Ranges.tasks(n);
        if (tasks == 1) {
            axpbyF32(alpha, xs, xo, beta, ys, yo, 0, n);
            return;
        }
        RangeJob.run(RangeJob.AXPBY, 0, alpha, beta, xs, xo, null, 0, ys, yo, n, tasks);
    }

    /**
     * Whether out's shape (right-aligned, leading 1s for missing dimensions) keeps grad's trailing dimensions as they
     * are and is 1 on all the ones before — a sum over leading axes, rows of a [R, out.numel()] matrix — with more
     * than one element kept (or nothing summed): the case {@link Reductions#sum} adds row by row in float32, so
     * {@link Reductions#sumRowsF32} gives its bits. A sum down to one element it accumulates in float64 runs instead.
     * Reads dimensions one by one (no shape copies).
     */
    private static boolean sumsLeadingAxesOnly(Tensor grad, Tensor out) {
        int rg = grad.rank(), ro = out.rank();
        if (ro > rg) return false;
        int i = rg - 1;
        while (i >= 0 && rg - 1 - i < ro && out.dim(ro - 1 - (rg - 1 - i)) == grad.dim(i)) i--;
        for (; i >= 0; i--) {
            int j = ro - 1 - (rg - 1 - i); // out's dimension aligned with grad's i, if any
            if (j >= 0 && out.dim(j) != 1) return false;
        }
        return out.numel() > 1 || grad.numel() == out.numel();
    }

    /**
     * One range of a split elementwise pass (a reused per-thread object rather than a closure per call: the residual
     * additions and gradient accumulations of a training step allocate nothing).
     */
    private static final class RangeJob implements java.util.function.IntConsumer {
        static final int AXPBY = 0, VV = 1;
        int kind, op, tasks;
        float alpha, beta;
        MemorySegment as, bs, os;
        long ao, bo, oo, n;

        /** The pass over [0, n) in {@code tasks} ranges on the pool, through the calling thread's job. */
        static void run(int kind, int op, float alpha, float beta, MemorySegment as, long ao, MemorySegment bs, long bo,
                        MemorySegment os, long oo, long n, int tasks) {
            RangeJob j = RANGE_JOB.get();
            j.kind = kind; j.op = op; j.alpha = alpha; j.beta = beta; j.as = as; j.ao = ao;
            j.bs = bs; j.bo = bo; j.os = os; j.oo = oo; j.n = n; j.tasks = tasks;
            try {
                ComputePool.parallelFor(tasks, j);
            } finally {
                j.as = j.bs = j.os = null; // no reference to the tensors' memory between calls
            }
        }

        @Override
        public void accept(int t) {
            long s = Ranges.start(n, tasks, t), e = Ranges.start(n, tasks, t + 1);
            if (kind == AXPBY) axpbyF32(alpha, as, ao, beta, os, oo, s, e);
            else vv(op, as, ao + 4 * s, bs, bo + 4 * s, os, oo + 4 * s, e - s);
        }
    }

    private static final ThreadLocal<RangeJob> RANGE_JOB = ThreadLocal.withInitial(RangeJob::new);

    // ------------------------------------------------------------------------------------ float32 engine

    /** out = a op b for contiguous tensors of one shape, split in {@link Ranges} across the pool. */
    private static void sameShapeF32(int op, Tensor a, Tensor b, Tensor out) {
        long n = out.numel();
        MemorySegment as = a.segment(), bs = b.segment(), os = out.segment();
        long ao = a.offset() * 4, bo = b.offset() * 4, oo = out.offset() * 4;
        int tasks = Ranges.tasks(n);
        if (tasks == 1) {
            vv(op, as, ao, bs, bo, os, oo, n);
            return;
        }
        RangeJob.run(RangeJob.VV, op, 0, 0, as, ao, bs, bo, os, oo, n, tasks);
    }

    private static void applyF32(int op, int[] shape, Tensor a, Tensor b, Tensor out) {
        // coalesce: drop size-1 dims, merge dim i into i+1 when every tensor is contiguous across them
        long[] sa = a.strides(), sb = b.strides(), so = out.strides();
        int r = shape.length;
        long[] dims = new long[r + 1], ta = new long[r + 1], tb = new long[r + 1], to = new long[r + 1];
        int k = 0;
        for (int i = 0; i < r; i++) {
            if (shape[i] == 1) continue;
            if (k > 0 && ta[k - 1] == sa[i] * shape[i] && tb[k - 1] == sb[i] * shape[i] && to[k - 1] == so[i] * shape[i]) {
                dims[k - 1] *= shape[i];
                ta[k - 1] = sa[i];
                tb[k - 1] = sb[i];
                to[k - 1] = so[i];
            } else {
                dims[k] = shape[i];
                ta[k] = sa[i];
                tb[k] = sb[i];
                to[k] = so[i];
                k++;
            }
        }
        if (k == 0) { dims[0] = 1; ta[0] = tb[0] = to[0] = 1; k = 1; }
        long inner = dims[k - 1];
        long rows = 1;
        for (int i = 0; i < k - 1; i++) rows *= dims[i];
        int rank = k;
        MemorySegment as = a.segment(), bs = b.segment(), os = out.segment();
        long ao = a.offset(), bo = b.offset(), oo = out.offset();
        int tasks = Ranges.tasks(rows * inner);
        if (tasks == 1) {
            rowsF32(op, rank, dims, ta, tb, to, as, ao, bs, bo, os, oo, 0, rows, 0, inner);
        } else if (rows >= tasks) {
            long rw = rows;
            ComputePool.parallelFor(tasks, t -> rowsF32(op, rank, dims, ta, tb, to, as, ao, bs, bo, os, oo,
                    rw * t / tasks, rw * (t + 1) / tasks, 0, inner));
        } else {
            long rw = rows;
            ComputePool.parallelFor(tasks, t -> rowsF32(op, rank, dims, ta, tb, to, as, ao, bs, bo, os, oo,
                    0, rw, Ranges.start(inner, tasks, t), Ranges.start(inner, tasks, t + 1)));
        }
    }

    /** Rows [r0, r1) of the coalesced problem, inner columns [c0, c1). Offsets in elements. */
    private static void rowsF32(int op, int rank, long[] dims, long[] ta, long[] tb, long[] to,
                                MemorySegment as, long ao, MemorySegment bs, long bo, MemorySegment os, long oo,
                                long r0, long r1, long c0, long c1) {
        long ia = ta[rank - 1], ib = tb[rank - 1], io = to[rank - 1];
        for (long row = r0; row < r1; row++) {
            long pa = ao, pb = bo, po = oo, rem = row;
            for (int d = rank - 2; d >= 0; d--) {
                long q = rem % dims[d];
                rem /= dims[d];
                pa += q * ta[d];
                pb += q * tb[d];
                po += q * to[d];
            }
            pa += c0 * ia;
            pb += c0 * ib;
            po += c0 * io;
            long n = c1 - c0;
            if (io == 1 && ia == 1 && ib == 1) vv(op, as, 4 * pa, bs, 4 * pb, os, 4 * po, n);
            else if (io == 1 && ia == 1 && ib == 0) vs(op, as, 4 * pa, bs.get(F, 4 * pb), os, 4 * po, n);
            else if (io == 1 && ia == 0 && ib == 1) sv(op, as.get(F, 4 * pa), bs, 4 * pb, os, 4 * po, n);
            else strided(op, as, pa, ia, bs, pb, ib, os, po, io, n);
        }
    }

    private static float scalar(int op, float x, float y) {
        return switch (op) {
            case 0 -> x + y;
            case 1 -> x - y;
            case 2 -> x * y;
            default -> x / y;
        };
    }

    private static void strided(int op, MemorySegment as, long pa, long ia, MemorySegment bs, long pb, long ib,
                                MemorySegment os, long po, long io, long n) {
        for (long i = 0; i < n; i++) {
            os.set(F, 4 * (po + i * io), scalar(op, as.get(F, 4 * (pa + i * ia)), bs.get(F, 4 * (pb + i * ib))));
        }
    }

    /** f32-vadd/vsub/vmul/vdiv: out[i] = a[i] op b[i] (byte offsets). */
    private static void vv(int op, MemorySegment as, long a, MemorySegment bs, long b, MemorySegment os, long o, long n) {
        long i = 0, end = S.loopBound(n);
        int l = S.length();
        switch (op) {
            case 0 -> { for (; i < end; i += l) ld(as, a, i).add(ld(bs, b, i)).intoMemorySegment(os, o + 4 * i, NO); }
            case 1 -> { for (; i < end; i += l) ld(as, a, i).sub(ld(bs, b, i)).intoMemorySegment(os, o + 4 * i, NO); }
            case 2 -> { for (; i < end; i += l) ld(as, a, i).mul(ld(bs, b, i)).intoMemorySegment(os, o + 4 * i, NO); }
            default -> { for (; i < end; i += l) ld(as, a, i).div(ld(bs, b, i)).intoMemorySegment(os, o + 4 * i, NO); }
        }
        for (; i < n; i++) os.set(F, o + 4 * i, scalar(op, as.get(F, a + 4 * i), bs.get(F, b + 4 * i)));
    }

    /** out[i] = a[i] op s. */
    private static void vs(int op, MemorySegment as, long a, float s, MemorySegment os, long o, long n) {
        long i = 0, end = S.loopBound(n);
        int l = S.length();
        switch (op) {
            case 0 -> { for (; i < end; i += l) ld(as, a, i).add(s).intoMemorySegment(os, o + 4 * i, NO); }
            case 1 -> { for (; i < end; i += l) ld(as, a, i).sub(s).intoMemorySegment(os, o + 4 * i, NO); }
            case 2 -> { for (; i < end; i += l) ld(as, a, i).mul(s).intoMemorySegment(os, o + 4 * i, NO); }
            default -> { for (; i < end; i += l) ld(as, a, i).div(s).intoMemorySegment(os, o + 4 * i, NO); }
        }
        for (; i < n; i++) os.set(F, o + 4 * i, scalar(op, as.get(F, a + 4 * i), s));
    }

    /** out[i] = s op b[i]. */
    private static void sv(int op, float s, MemorySegment bs, long b, MemorySegment os, long o, long n) {
        long i = 0, end = S.loopBound(n);
        int l = S.length();
        FloatVector sv = FloatVector.broadcast(S, s);
        switch (op) {
            case 0 -> { for (; i < end; i += l) sv.add(ld(bs, b, i)).intoMemorySegment(os, o + 4 * i, NO); }
            case 1 -> { for (; i < end; i += l) sv.sub(ld(bs, b, i)).intoMemorySegment(os, o + 4 * i, NO); }
            case 2 -> { for (; i < end; i += l) sv.mul(ld(bs, b, i)).intoMemorySegment(os, o + 4 * i, NO); }
            default -> { for (; i < end; i += l) sv.div(ld(bs, b, i)).intoMemorySegment(os, o + 4 * i, NO); }
        }
        for (; i < n; i++) os.set(F, o + 4 * i, scalar(op, s, bs.get(F, b + 4 * i)));
    }

    private static FloatVector ld(MemorySegment s, long base, long i) {
        return FloatVector.fromMemorySegment(S, s, base + 4 * i, NO);
    }

    /** f32-axpby over elements [from, to) (byte offsets xo, yo). */
    private static void axpbyF32(float alpha, MemorySegment xs, long xo, float beta, MemorySegment ys, long yo, long from, long to) {
        long i = from, end = from + S.loopBound(to - from);
        int l = S.length();
        if (beta == 0f) {
            for (; i < end; i += l) ld(xs, xo, i).mul(alpha).intoMemorySegment(ys, yo + 4 * i, NO);
            for (; i < to; i++) ys.set(F, yo + 4 * i, alpha * xs.get(F, xo + 4 * i));
        } else {
            for (; i < end; i += l) {
                ld(xs, xo, i).mul(alpha).add(ld(ys, yo, i).mul(beta)).intoMemorySegment(ys, yo + 4 * i, NO);
            }
            for (; i < to; i++) ys.set(F, yo + 4 * i, alpha * xs.get(F, xo + 4 * i) + beta * ys.get(F, yo + 4 * i));
        }
    }
}
