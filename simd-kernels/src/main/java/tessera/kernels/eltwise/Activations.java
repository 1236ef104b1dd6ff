package tessera.kernels.eltwise;

import static jdk.incubator.vector.VectorOperators.EXP;
import static jdk.incubator.vector.VectorOperators.EXPM1;
import static jdk.incubator.vector.VectorOperators.LOG1P;
import static jdk.incubator.vector.VectorOperators.TANH;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
import tessera.kernels.Activation;
import tessera.kernels.ActivationFn;
import tessera.kernels.ComputePool;
import tessera.kernels.VectorMath;
import tessera.memory.DType;
import tessera.memory.Tensor;

/**
 * Pointwise activations (forward and backward), PReLU and Maxout, with PyTorch semantics.
 *
 * <p>Dispatch: F32 tensors take the Vector API path ({@code SPECIES_PREFERRED}, masked tails, split across the
 * {@link ComputePool} in 64-element-aligned chunks so results do not depend on the thread count); F64 tensors take
 * the float64 reference ({@link #reference}, {@link #referenceDerivative}), plain loops that read like the formula.
 *
 * <p>Accuracy of the F32 path: exp, expm1, log1p and tanh are the Vector API's lanewise operators, which follow
 * {@link Math}'s 1-ulp accuracy (evaluated in float); the composed formulas (sigmoid, SiLU, Mish, softplus and the
 * derivatives) stay within 2e-6 absolute + 4e-6 relative of the float64 reference (checked by the tests).
 * Partitioning never changes which arithmetic an element sees (64-aligned chunks, masked tails), so ReLU-family
 * results are bitwise independent of the thread count; the transcendental operators themselves may differ by an ulp
 * between the Vector API's Java fallback (before C2 compiles a loop) and its compiled SVML stubs.
 *
 * <p>Layout: {@link #forward}/{@link #backward} accept any shape and any strides (non-contiguous tensors go through a
 * contiguous copy: correct, slower, allocates). PReLU and Maxout accept non-contiguous tensors the same way.
 */
public final class Activations {
    private static final VectorSpecies<Float> S = tessera.kernels.Species.FLOAT;
    private static final ByteOrder NO = ByteOrder.nativeOrder();
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT_UNALIGNED;
    /** PyTorch's Softplus threshold (beta = 1): above it softplus(x) = x. */
    public static final double SOFTPLUS_THRESHOLD = 20;

    private Activations() {}

    // =====================================================================================================
    // public entry points
    // =====================================================================================================

    /**
     * {@code y = act(x)}, elementwise; x and y of equal shape and float dtype; y may be x (in place). Allocates nothing
     * for contiguous F32 tensors.
     */
    public static void forward(ActivationFn act, Tensor x, Tensor y) {
        checkAct(act);
        TensorArgs.requireFloat("x", x);
        TensorArgs.requireSameShape("y", y, "x", x);
        if (x.dtype() == DType.F64) {
            double[] xs = x.toDoubleArray();
            double[] ys = new double[xs.length];
            for (int i = 0; i < xs.length; i++) ys[i] = reference(act, xs[i]);
            TensorArgs.store(y, ys);
            return;
        }
        if (!TensorArgs.allContiguous(x, y)) {
            try (Tensor xc = x.copy(); Tensor yc = Tensor.zeros(DType.F32, y.shape())) {
                forward(act, xc, yc);
                y.copyFrom(yc);
            }
            return;
        }
        long n = x.numel();
        MemorySegment xs = x.segment(), ys = y.segment();
        long xo = TensorArgs.byteOffset(x), yo = TensorArgs.byteOffset(y);
        int tasks = Ranges.tasks(n);
        if (tasks == 1) {
            forwardF32(act, xs, xo, ys, yo, 0, n);
        } else {
            RangeJob.run(false, act, xs, xo, null, 0, ys, yo, n, tasks);
        }
    }

    /** The one-scalar form: {@code forward(ActivationFn.of(act, alpha), x, y)} (not for CLIP, HARD_SIGMOID, SELU). */
    public static void forward(Activation act, float alpha, Tensor x, Tensor y) {
        forward(ActivationFn.of(act, alpha), x, y);
    }

    /**
     * {@code dx = dy · act'(x)}, elementwise (gradients at kinks as {@link ActivationFn} documents). {@code y} (the
     * forward output) may be null: derivatives are computed from {@code x}; when given it must have x's shape. dx
     * may alias dy.
     */
    public static void backward(ActivationFn act, Tensor x, Tensor y, Tensor dy, Tensor dx) {
        checkAct(act);
        TensorArgs.requireFloat("x", x);
        if (y != null) TensorArgs.requireSameShape("y", y, "x", x);
        TensorArgs.requireSameShape("dy", dy, "x", x);
        TensorArgs.requireSameShape("dx", dx, "x", x);
        if (x.dtype() == DType.F64) {
            double[] xs = x.toDoubleArray(), g = dy.toDoubleArray();
            double[] out = new double[xs.length];
            for (int i = 0; i < xs.length; i++) out[i] = g[i] * referenceDerivative(act, xs[i]);
            TensorArgs.store(dx, out);
            return;
        }
        if (!TensorArgs.allContiguous(x, dy, dx)) {
            try (Tensor xc = x.copy(); Tensor gc = dy.copy(); Tensor dc = Tensor.zeros(DType.F32, dx.shape())) {
                backward(act, xc, null, gc, dc);
                dx.copyFrom(dc);
            }
            return;
        }
        long n = x.numel();
        MemorySegment xs = x.segment(), gs = dy.segment(), ds = dx.segment();
        long xo = TensorArgs.byteOffset(x), go = TensorArgs.byteOffset(dy), dxo = TensorArgs.byteOffset(dx);
        int tasks = Ranges.tasks(n);
        if (tasks == 1) {
            backwardF32(act, xs, xo, gs, go, ds, dxo, 0, n);
        } else {
            RangeJob.run(true, act, xs, xo, gs, go, ds, dxo, n, tasks);
        }
    }

    /** The one-scalar form: {@code backward(ActivationFn.of(act, alpha), x, y, dy, dx)}. */
    public static void backward(Activation act, float alpha, Tensor x, Tensor y, Tensor dy, Tensor dx) {
        backward(ActivationFn.of(act, alpha), x, y, dy, dx);
    }

    /**
     * PReLU: {@code y = x > 0 ? x : slope[c]·x}, channel c = index along dim 1; slope has shape [C] (x of rank >= 2
     * with dim(1) = C) or [1] (one shared slope, any x). y may be x.
     */
    public static void preluForward(Tensor x, Tensor slope, Tensor y) {
        TensorArgs.requireFloat("x", x);
        TensorArgs.requireSameShape("y", y, "x", x);
        int c = checkSlope(x, slope);
        if (x.dtype() == DType.F64 || !TensorArgs.allContiguous(x, slope, y)) {
            preluForwardReference(x, slope, y, c);
            return;
        }
        long planes = c == 1 ? 1 : x.dim(0) * (long) c;
        long inner = x.numel() / Math.max(planes, 1);
        MemorySegment xs = x.segment(), ys = y.segment(), ss = slope.segment();
        long xo = TensorArgs.byteOffset(x), yo = TensorArgs.byteOffset(y), so = TensorArgs.byteOffset(slope);
        if (planes <= 1) {
            float a = ss.get(F, so);
            int tasks = Ranges.tasks(inner);
            ComputePool.parallelFor(tasks, t -> preluF32(a, xs, xo, ys, yo, Ranges.start(inner, tasks, t), Ranges.start(inner, tasks, t + 1)));
            return;
        }
        int tasks = (int) Math.min(planes, Ranges.tasks(x.numel()));
        int cc = c;
        ComputePool.parallelFor(tasks, t -> {
            for (long p = planes * t / tasks; p < planes * (t + 1) / tasks; p++) {
                float a = ss.get(F, so + 4L * (p % cc));
                preluF32(a, xs, xo + 4 * p * inner, ys, yo + 4 * p * inner, 0, inner);
            }
        });
    }

    /**
     * PReLU backward: {@code dx = dy·(x > 0 ? 1 : slope[c])}, {@code dslope[c] = Σ_{x<=0} dy·x} over every element
     * of channel c (overwritten, shape of slope). Sums are per (n, c) plane then added in plane order, so results do
     * not depend on the thread count. This method computes in a float64 accumulation for both dtypes.
     */
    public static void preluBackward(Tensor x, Tensor slope, Tensor dy, Tensor dx, Tensor dslope) {
        TensorArgs.requireFloat("x", x);
        TensorArgs.requireSameShape("dy", dy, "x", x);
        TensorArgs.requireSameShape("dx", dx, "x", x);
        int c = checkSlope(x, slope);
        TensorArgs.requireSameShape("dslope", dslope, "slope", slope);
        double[] xs = x.toDoubleArray(), g = dy.toDoubleArray(), a = slope.toDoubleArray();
        double[] out = new double[xs.length];
        double[] ds = new double[a.length];
        long inner = c == 1 ? xs.length : xs.length / ((long) x.dim(0) * c);
        for (int i = 0; i < xs.length; i++) {
            int ch = c == 1 ? 0 : (int) ((i / inner) % c);
            out[i] = xs[i] > 0 ? g[i] : a[ch] * g[i];
            if (xs[i] <= 0) ds[ch] += g[i] * xs[i];
        }
        TensorArgs.store(dx, out);
        TensorArgs.store(dslope, ds);
    }

    /**
     * Maxout over channel groups: {@code y[n,j,...] = max_{k<pieces} x[n, j·pieces + k, ...]} and
     * {@code argmax[n,j,...] = k} (the first maximal k; I32). x [N, C, ...] with C divisible by pieces,
     * y [N, C/pieces, ...].
     */
    public static void maxoutForward(Tensor x, int pieces, Tensor y, Tensor argmax) {
        TensorArgs.requireFloat("x", x);
        int[] ys = maxoutShape(x, pieces);
        TensorArgs.requireSameDType("y", y, "x", x);
        TensorArgs.requireShape("y", y, ys, "x's shape with dim 1 divided by pieces=" + pieces);
        TensorArgs.requireDType("argmax", argmax, DType.I32);
        TensorArgs.requireShape("argmax", argmax, ys, "y's shape");
        if (x.dtype() == DType.F64 || !TensorArgs.allContiguous(x, y, argmax)) {
            maxoutForwardReference(x, pieces, y, argmax);
            return;
        }
        int n = x.dim(0), groups = ys[1];
        long inner = TensorArgs.product(ys, 2, ys.length);
        MemorySegment xs = x.segment(), yseg = y.segment(), as = argmax.segment();
        long xo = TensorArgs.byteOffset(x), yo = TensorArgs.byteOffset(y), ao = TensorArgs.byteOffset(argmax);
        long planes = (long) n * groups;
        int tasks = (int) Math.min(planes, Ranges.tasks(x.numel()));
        ComputePool.parallelFor(tasks, t -> {
            for (long p = planes * t / tasks; p < planes * (t + 1) / tasks; p++) {
                maxoutF32(pieces, inner, xs, xo + 4 * p * pieces * inner, yseg, yo + 4 * p * inner, as, ao + 4 * p * inner);
            }
        });
    }

    /** Maxout backward: dx zero-filled, then {@code dx[n, j·pieces + argmax, ...] = dy[n, j, ...]}. */
    public static void maxoutBackward(Tensor argmax, int pieces, Tensor dy, Tensor dx) {
        TensorArgs.requireFloat("dx", dx);
        int[] ys = maxoutShape(dx, pieces);
        TensorArgs.requireSameDType("dy", dy, "dx", dx);
        TensorArgs.requireShape("dy", dy, ys, "dx's shape with dim 1 divided by pieces=" + pieces);
        TensorArgs.requireDType("argmax", argmax, DType.I32);
        TensorArgs.requireShape("argmax", argmax, ys, "dy's shape");
        double[] g = dy.toDoubleArray(), idx = argmax.toDoubleArray();
        double[] out = new double[(int) dx.numel()];
        int groups = ys[1];
        long inner = TensorArgs.product(ys, 2, ys.length);
        for (int i = 0; i < g.length; i++) {
            long s = i % inner, j = (i / inner) % groups, nn = i / inner / groups;
            int k = (int) idx[i];
            if (k < 0 || k >= pieces) {
                throw new IllegalArgumentException("argmax holds " + k + " at flat index " + i + ", expected 0 <= k < pieces=" + pieces);
            }
            out[(int) (((nn * groups + j) * pieces + k) * inner + s)] = g[i];
        }
        TensorArgs.store(dx, out);
    }

    // =====================================================================================================
    // float64 reference (the formulas)
    // =====================================================================================================

    /** act(x) in float64, PyTorch semantics (parameters widened from float). */
    public static double reference(ActivationFn act, double x) {
        double a = act.a(), b = act.b();
        return switch (act.kind()) {
            case IDENTITY -> x;
            case RELU -> x > 0 ? x : 0;
            case LEAKY_RELU -> x > 0 ? x : a * x;
            case ELU -> x > 0 ? x : a * Math.expm1(x);
            case SIGMOID -> 1 / (1 + Math.exp(-x));
            case TANH -> Math.tanh(x);
            case SILU -> x / (1 + Math.exp(-x));
            case MISH -> x * Math.tanh(softplus(x));
            case SOFTPLUS -> x > SOFTPLUS_THRESHOLD ? x : softplus(x);
            case CLIP -> Math.min(Math.max(x, a), b);
            case HARD_SIGMOID -> Math.max(0, Math.min(1, a * x + b));
            case HARD_SWISH -> x * Math.min(Math.max(x + 3, 0), 6) / 6;
            case SELU -> x > 0 ? b * x : b * a * Math.expm1(x);
        };
    }

    /** The one-scalar form of {@link #reference(ActivationFn, double)}. */
    public static double reference(Activation act, double alpha, double x) {
        return reference(ActivationFn.of(act, (float) alpha), x);
    }

    /** act'(x) in float64; at kinks the value PyTorch's backward uses (see {@link ActivationFn}), e.g. ReLU'(0) = 0. */
    public static double referenceDerivative(ActivationFn act, double x) {
        double a = act.a(), b = act.b();
        return switch (act.kind()) {
            case IDENTITY -> 1;
            case RELU -> x > 0 ? 1 : 0;
            case LEAKY_RELU -> x > 0 ? 1 : a;
            case ELU -> x > 0 ? 1 : a * Math.exp(x);
            case SIGMOID -> sigmoid(x) * (1 - sigmoid(x));
            case TANH -> 1 - Math.tanh(x) * Math.tanh(x);
            case SILU -> sigmoid(x) * (1 + x * (1 - sigmoid(x)));
            case MISH -> {
                double t = Math.tanh(softplus(x));
                yield t + x * sigmoid(x) * (1 - t * t);   // d/dx x·tanh(sp(x)), sp' = sigmoid
            }
            case SOFTPLUS -> x > SOFTPLUS_THRESHOLD ? 1 : sigmoid(x);
            case CLIP -> x >= a && x <= b ? 1 : 0;                       // torch.clamp: bounds pass the gradient
            case HARD_SIGMOID -> {
                double t = a * x + b;
                yield t > 0 && t < 1 ? a : 0;                            // Hardsigmoid: bounds excluded
            }
            case HARD_SWISH -> x < -3 ? 0 : x <= 3 ? x / 3 + 0.5 : 1;  // hardswish_backward
            case SELU -> x > 0 ? b : b * a * Math.exp(x);
        };
    }

    /** The one-scalar form of {@link #referenceDerivative(ActivationFn, double)}. */
    public static double referenceDerivative(Activation act, double alpha, double x) {
        return referenceDerivative(ActivationFn.of(act, (float) alpha), x);
    }

    private static double sigmoid(double x) { return 1 / (1 + Math.exp(-x)); }

    /** log(1 + e^x), stable for any x. */
    private static double softplus(double x) { return Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x))); }

    private static void preluForwardReference(Tensor x, Tensor slope, Tensor y, int c) {
        double[] xs = x.toDoubleArray(), a = slope.toDoubleArray();
        double[] out = new double[xs.length];
        long inner = c == 1 ? xs.length : xs.length / ((long) x.dim(0) * c);
        for (int i = 0; i < xs.length; i++) {
            int ch = c == 1 ? 0 : (int) ((i / inner) % c);
            out[i] = xs[i] > 0 ? xs[i] : a[ch] * xs[i];
        }
        TensorArgs.store(y, out);
    }

    private static void maxoutForwardReference(Tensor x, int pieces, Tensor y, Tensor argmax) {
        double[] xs = x.toDoubleArray();
        int[] ys = y.shape();
        int groups = ys[1];
        long inner = TensorArgs.product(ys, 2, ys.length);
        double[] out = new double[(int) y.numel()];
        long[] arg = new long[out.length];
        for (int i = 0; i < out.length; i++) {
            long s = i % inner, j = (i / inner) % groups, nn = i / inner / groups;
            double best = Double.NEGATIVE_INFINITY;
            int bestK = 0;
            for (int k = 0; k < pieces; k++) {
                double v = xs[(int) (((nn * groups + j) * pieces + k) * inner + s)];
                if (k == 0 || v > best || (Double.isNaN(v) && !Double.isNaN(best))) {
                    best = v;
                    bestK = k;
                }
            }
            out[i] = best;
            arg[i] = bestK;
        }
        TensorArgs.store(y, out);
        TensorArgs.storeLongs(argmax, arg);
    }

    // =====================================================================================================
    // checks
    // =====================================================================================================

    private static void checkAct(ActivationFn act) {
        if (act == null) throw new IllegalArgumentException("act must not be null (use ActivationFn.IDENTITY)");
    }

    /** Returns the number of slopes (1 or C). */
    private static int checkSlope(Tensor x, Tensor slope) {
        TensorArgs.requireSameDType("slope", slope, "x", x);
        if (slope.rank() != 1) {
            throw new IllegalArgumentException("slope has shape " + TensorArgs.str(slope) + ", expected [C] or [1]");
        }
        int c = slope.dim(0);
        if (c == 1) return 1;
        if (x.rank() < 2 || x.dim(1) != c) {
            throw new IllegalArgumentException("slope has shape " + TensorArgs.str(slope) + " but x has shape " + TensorArgs.str(x)
                    + "; expected slope [1] or [C] with C = x.dim(1)");
        }
        return c;
    }

    private static int[] maxoutShape(Tensor x, int pieces) {
        if (pieces < 1) throw new IllegalArgumentException("pieces = " + pieces + ", expected >= 1");
        if (x.rank() < 2 || x.dim(1) % pieces != 0) {
            throw new IllegalArgumentException("maxout input of shape " + TensorArgs.str(x) + " needs rank >= 2 and dim 1 divisible by pieces="
                    + pieces);
        }
        int[] s = x.shape();
        s[1] /= pieces;
        return s;
    }

    // =====================================================================================================
    // float32 Vector API kernels (byte offsets; element range [from, to))
    // =====================================================================================================

    static void forwardF32(ActivationFn fn, MemorySegment xs, long xo, MemorySegment ys, long yo, long from, long to) {
        float alpha = fn.a(), beta = fn.b();
        switch (fn.kind()) {
            case IDENTITY -> MemorySegment.copy(xs, xo + 4 * from, ys, yo + 4 * from, 4 * (to - from));
            case RELU -> f32Relu(xs, xo, ys, yo, from, to);
            case LEAKY_RELU -> preluF32(alpha, xs, xo, ys, yo, from, to);
            case ELU -> f32Elu(alpha, xs, xo, ys, yo, from, to);
            case SIGMOID -> f32Sigmoid(xs, xo, ys, yo, from, to);
            case TANH -> f32Tanh(xs, xo, ys, yo, from, to);
            case SILU -> f32Silu(xs, xo, ys, yo, from, to);
            case MISH -> f32Mish(xs, xo, ys, yo, from, to);
            case SOFTPLUS -> f32Softplus(xs, xo, ys, yo, from, to);
            case CLIP, HARD_SIGMOID, HARD_SWISH, SELU -> f32Hard(fn.kind(), alpha, beta, xs, xo, ys, yo, from, to);
        }
    }

    static void backwardF32(ActivationFn fn, MemorySegment xs, long xo, MemorySegment gs, long go,
                            MemorySegment ds, long dxo, long from, long to) {
        float alpha = fn.a(), beta = fn.b();
        switch (fn.kind()) {
            case IDENTITY -> MemorySegment.copy(gs, go + 4 * from, ds, dxo + 4 * from, 4 * (to - from));
            case RELU -> f32ReluBackward(xs, xo, gs, go, ds, dxo, from, to);
            case LEAKY_RELU -> f32LeakyBackward(alpha, xs, xo, gs, go, ds, dxo, from, to);
            case ELU -> f32EluBackward(alpha, xs, xo, gs, go, ds, dxo, from, to);
            case SIGMOID -> f32SigmoidBackward(xs, xo, gs, go, ds, dxo, from, to);
            case TANH -> f32TanhBackward(xs, xo, gs, go, ds, dxo, from, to);
            case SILU -> f32SiluBackward(xs, xo, gs, go, ds, dxo, from, to);
            case MISH -> f32MishBackward(xs, xo, gs, go, ds, dxo, from, to);
            case SOFTPLUS -> f32SoftplusBackward(xs, xo, gs, go, ds, dxo, from, to);
            case CLIP, HARD_SIGMOID, HARD_SWISH, SELU -> f32HardBackward(fn.kind(), alpha, beta, xs, xo, gs, go, ds, dxo, from, to);
        }
    }

    /** act(v) on one vector; a, b as in {@link ActivationFn}. */
    private static FloatVector apply(Activation kind, float a, float b, FloatVector v) {
        return switch (kind) {
            case CLIP -> v.max(a).min(b);
            case HARD_SIGMOID -> v.mul(a).add(b).max(0f).min(1f);
            case HARD_SWISH -> v.mul(v.add(3f).max(0f).min(6f)).div(6f);
            case SELU -> v.blend(v.lanewise(EXPM1).mul(a), v.compare(VectorOperators.LE, 0f)).mul(b);
            case IDENTITY -> v;
            case RELU -> v.max(0f);
            case LEAKY_RELU -> v.blend(v.mul(a), v.compare(VectorOperators.LE, 0f));
            case ELU -> elu(v, a);
            case SIGMOID -> sigmoid(v);
            case TANH -> VectorMath.tanh(v);
            case SILU -> v.mul(sigmoid(v));
            case MISH -> mish(v);
            case SOFTPLUS -> softplus(v);
        };
    }

    /** dy·act'(x) on one vector, for the kinds {@link #f32HardBackward} handles. */
    private static FloatVector derivative(Activation kind, float a, float b, FloatVector x, FloatVector g) {
        return switch (kind) {
            case CLIP -> g.blend(0f, x.compare(VectorOperators.GE, a).and(x.compare(VectorOperators.LE, b)).not());
            case HARD_SIGMOID -> {
                FloatVector t = x.mul(a).add(b);
                yield g.mul(a).blend(0f, t.compare(VectorOperators.GT, 0f).and(t.compare(VectorOperators.LT, 1f)).not());
            }
            case HARD_SWISH -> {
                FloatVector mid = g.mul(x.div(3f).add(0.5f));
                yield mid.blend(0f, x.compare(VectorOperators.LT, -3f)).blend(g, x.compare(VectorOperators.GT, 3f));
            }
            case SELU -> g.mul(b).blend(g.mul(VectorMath.exp(x).mul(a * b)), x.compare(VectorOperators.LE, 0f));
            default -> throw new IllegalArgumentException(kind + " has its own backward kernel");
        };
    }

    private static void f32Hard(Activation kind, float a, float b, MemorySegment xs, long xo, MemorySegment ys, long yo, long from, long to) {
        long i = from;
        for (long end = from + S.loopBound(to - from); i < end; i += S.length()) {
            apply(kind, a, b, load(xs, xo, i)).intoMemorySegment(ys, yo + 4 * i, NO);
        }
        if (i < to) {
            VectorMask<Float> m = S.indexInRange(i, to);
            apply(kind, a, b, load(xs, xo, i, m)).intoMemorySegment(ys, yo + 4 * i, NO, m);
        }
    }

    private static void f32HardBackward(Activation kind, float a, float b, MemorySegment xs, long xo, MemorySegment gs, long go,
                                        MemorySegment ds, long dxo, long from, long to) {
        long i = from;
        for (long end = from + S.loopBound(to - from); i < end; i += S.length()) {
            derivative(kind, a, b, load(xs, xo, i), load(gs, go, i)).intoMemorySegment(ds, dxo + 4 * i, NO);
        }
        if (i < to) {
            VectorMask<Float> m = S.indexInRange(i, to);
            derivative(kind, a, b, load(xs, xo, i, m), load(gs, go, i, m)).intoMemorySegment(ds, dxo + 4 * i, NO, m);
        }
    }

    private static FloatVector load(MemorySegment s, long base, long i) {
        return FloatVector.fromMemorySegment(S, s, base + 4 * i, NO);
    }

    private static FloatVector load(MemorySegment s, long base, long i, VectorMask<Float> m) {
        return FloatVector.fromMemorySegment(S, s, base + 4 * i, NO, m);
    }

    /** f32-relu: y = max(x, 0), 4 vectors per step. */
    static void f32Relu(MemorySegment xs, long xo, MemorySegment ys, long yo, long from, long to) {
        int l = S.length();
        long i = from;
        for (long end = to - 4L * l; i <= end; i += 4L * l) {
            FloatVector a = load(xs, xo, i), b = load(xs, xo, i + l), c = load(xs, xo, i + 2L * l), d = load(xs, xo, i + 3L * l);
            a.max(0f).intoMemorySegment(ys, yo + 4 * i, NO);
            b.max(0f).intoMemorySegment(ys, yo + 4 * (i + l), NO);
            c.max(0f).intoMemorySegment(ys, yo + 4 * (i + 2L * l), NO);
            d.max(0f).intoMemorySegment(ys, yo + 4 * (i + 3L * l), NO);
        }
        for (; i < to; i += l) {
            VectorMask<Float> m = S.indexInRange(i, to);
            load(xs, xo, i, m).max(0f).intoMemorySegment(ys, yo + 4 * i, NO, m);
        }
    }

    /** f32-prelu with one slope (also LeakyReLU): y = x > 0 ? x : a·x. */
    static void preluF32(float a, MemorySegment xs, long xo, MemorySegment ys, long yo, long from, long to) {
        long i = from;
        for (long end = from + S.loopBound(to - from); i < end; i += S.length()) {
            FloatVector v = load(xs, xo, i);
            v.blend(v.mul(a), v.compare(VectorOperators.LE, 0f)).intoMemorySegment(ys, yo + 4 * i, NO);
        }
        if (i < to) {
            VectorMask<Float> m = S.indexInRange(i, to);
            FloatVector v = load(xs, xo, i, m);
            v.blend(v.mul(a), v.compare(VectorOperators.LE, 0f)).intoMemorySegment(ys, yo + 4 * i, NO, m);
        }
    }

    private static FloatVector elu(FloatVector v, float alpha) {
        return v.blend(v.lanewise(EXPM1).mul(alpha), v.compare(VectorOperators.LE, 0f));
    }

    private static FloatVector sigmoid(FloatVector v) {
        return v.broadcast(1f).div(VectorMath.exp(v.neg()).add(1f));
    }

    /** log(1 + e^x) = max(x,0) + log1p(e^-|x|); x above the threshold passes through. */
    private static FloatVector softplus(FloatVector v) {
        FloatVector sp = v.max(0f).add(v.abs().neg().lanewise(EXP).lanewise(LOG1P));
        return sp.blend(v, v.compare(VectorOperators.GT, (float) SOFTPLUS_THRESHOLD));
    }

    private static FloatVector mish(FloatVector v) {
        return v.mul(v.max(0f).add(v.abs().neg().lanewise(EXP).lanewise(LOG1P)).lanewise(TANH));
    }

    private static void f32Elu(float alpha, MemorySegment xs, long xo, MemorySegment ys, long yo, long from, long to) {
        long i = from;
        for (long end = from + S.loopBound(to - from); i < end; i += S.length()) {
            elu(load(xs, xo, i), alpha).intoMemorySegment(ys, yo + 4 * i, NO);
        }
        if (i < to) {
            VectorMask<Float> m = S.indexInRange(i, to);
            elu(load(xs, xo, i, m), alpha).intoMemorySegment(ys, yo + 4 * i, NO, m);
        }
    }

    private static void f32Sigmoid(MemorySegment xs, long xo, MemorySegment ys, long yo, long from, long to) {
        long i = from;
        for (long end = from + S.loopBound(to - from); i < end; i += S.length()) {
            sigmoid(load(xs, xo, i)).intoMemorySegment(ys, yo + 4 * i, NO);
        }
        if (i < to) {
            VectorMask<Float> m = S.indexInRange(i, to);
            sigmoid(load(xs, xo, i, m)).intoMemorySegment(ys, yo + 4 * i, NO, m);
        }
    }

    private static void f32Tanh(MemorySegment xs, long xo, MemorySegment ys, long yo, long from, long to) {
        long i = from;
        for (long end = from + S.loopBound(to - from); i < end; i += S.length()) {
            VectorMath.tanh(load(xs, xo, i)).intoMemorySegment(ys, yo + 4 * i, NO);
        }
        if (i < to) {
            VectorMask<Float> m = S.indexInRange(i, to);
            VectorMath.tanh(load(xs, xo, i, m)).intoMemorySegment(ys, yo + 4 * i, NO, m);
        }
    }

    private static void f32Silu(MemorySegment xs, long xo, MemorySegment ys, long yo, long from, long to) {
        long i = from;
        for (long end = from + S.loopBound(to - from); i < end; i += S.length()) {
            FloatVector v = load(xs, xo, i);
            v.mul(sigmoid(v)).intoMemorySegment(ys, yo + 4 * i, NO);
        }
        if (i < to) {
            VectorMask<Float> m = S.indexInRange(i, to);
            FloatVector v = load(xs, xo, i, m);
            v.mul(sigmoid(v)).intoMemorySegment(ys, yo + 4 * i, NO, m);
        }
    }

    private static void f32Mish(MemorySegment xs, long xo, MemorySegment ys, long yo, long from, long to) {
        long i = from;
        for (long end = from + S.loopBound(to - from); i < end; i += S.length()) {
            mish(load(xs, xo, i)).intoMemorySegment(ys, yo + 4 * i, NO);
        }
        if (i < to) {
            VectorMask<Float> m = S.indexInRange(i, to);
            mish(load(xs, xo, i, m)).intoMemorySegment(ys, yo + 4 * i, NO, m);
        }
    }

    private static void f32Softplus(MemorySegment xs, long xo, MemorySegment ys, long yo, long from, long to) {
        long i = from;
        for (long end = from + S.loopBound(to - from); i < end; i += S.length()) {
            softplus(load(xs, xo, i)).intoMemorySegment(ys, yo + 4 * i, NO);
        }
        if (i < to) {
            VectorMask<Float> m = S.indexInRange(i, to);
            softplus(load(xs, xo, i, m)).intoMemorySegment(ys, yo + 4 * i, NO, m);
        }
    }

    // ---- backward: dx = dy · f'(x)

    private static void f32ReluBackward(MemorySegment xs, long xo, MemorySegment gs, long go, MemorySegment ds, long dxo, long from, long to) {
        long i = from;
        for (long end = from + S.loopBound(to - from); i < end; i += S.length()) {
            FloatVector x = load(xs, xo, i), g = load(gs, go, i);
            g.blend(0f, x.compare(VectorOperators.LE, 0f)).intoMemorySegment(ds, dxo + 4 * i, NO);
        }
        if (i < to) {
            VectorMask<Float> m = S.indexInRange(i, to);
            FloatVector x = load(xs, xo, i, m), g = load(gs, go, i, m);
            g.blend(0f, x.compare(VectorOperators.LE, 0f)).intoMemorySegment(ds, dxo + 4 * i, NO, m);
        }
    }

    private static void f32LeakyBackward(float alpha, MemorySegment xs, long xo, MemorySegment gs, long go, MemorySegment ds, long dxo, long from, long to) {
        long i = from;
        for (long end = from + S.loopBound(to - from); i < end; i += S.length()) {
            FloatVector x = load(xs, xo, i), g = load(gs, go, i);
            g.blend(g.mul(alpha), x.compare(VectorOperators.LE, 0f)).intoMemorySegment(ds, dxo + 4 * i, NO);
        }
        if (i < to) {
            VectorMask<Float> m = S.indexInRange(i, to);
            FloatVector x = load(xs, xo, i, m), g = load(gs, go, i, m);
            g.blend(g.mul(alpha), x.compare(VectorOperators.LE, 0f)).intoMemorySegment(ds, dxo + 4 * i, NO, m);
        }
    }

    private static FloatVector dElu(FloatVector x, FloatVector g, float alpha) {
        return g.blend(g.mul(VectorMath.exp(x).mul(alpha)), x.compare(VectorOperators.LE, 0f));
    }

    private static FloatVector dSigmoid(FloatVector x, FloatVector g) {
        FloatVector s = sigmoid(x);
        return g.mul(s).mul(s.neg().add(1f));
    }

    private static FloatVector dTanh(FloatVector x, FloatVector g) {
        FloatVector t = VectorMath.tanh(x);
        return g.mul(t.mul(t).neg().add(1f));
    }

    private static FloatVector dSilu(FloatVector x, FloatVector g) {
        FloatVector s = sigmoid(x);
        return g.mul(s.mul(x.mul(s.neg().add(1f)).add(1f)));
    }

    private static FloatVector dMish(FloatVector x, FloatVector g) {
        FloatVector t = x.max(0f).add(x.abs().neg().lanewise(EXP).lanewise(LOG1P)).lanewise(TANH);
        FloatVector s = sigmoid(x);
        return g.mul(x.mul(s).mul(t.mul(t).neg().add(1f)).add(t));
    }

    private static FloatVector dSoftplus(FloatVector x, FloatVector g) {
        return g.mul(sigmoid(x)).blend(g, x.compare(VectorOperators.GT, (float) SOFTPLUS_THRESHOLD));
    }

    private static void f32EluBackward(float alpha, MemorySegment xs, long xo, MemorySegment gs, long go, MemorySegment ds, long dxo, long from, long to) {
        long i = from;
        for (long end = from + S.loopBound(to - from); i < end; i += S.length()) {
            dElu(load(xs, xo, i), load(gs, go, i), alpha).intoMemorySegment(ds, dxo + 4 * i, NO);
        }
        if (i < to) {
            VectorMask<Float> m = S.indexInRange(i, to);
            dElu(load(xs, xo, i, m), load(gs, go, i, m), alpha).intoMemorySegment(ds, dxo + 4 * i, NO, m);
        }
    }

    private static void f32SigmoidBackward(MemorySegment xs, long xo, MemorySegment gs, long go, MemorySegment ds, long dxo, long from, long to) {
        long i = from;
        for (long end = from + S.loopBound(to - from); i < end; i += S.length()) {
            dSigmoid(load(xs, xo, i), load(gs, go, i)).intoMemorySegment(ds, dxo + 4 * i, NO);
        }
        if (i < to) {
            VectorMask<Float> m = S.indexInRange(i, to);
            dSigmoid(load(xs, xo, i, m), load(gs, go, i, m)).intoMemorySegment(ds, dxo + 4 * i, NO, m);
        }
    }

    private static void f32TanhBackward(MemorySegment xs, long xo, MemorySegment gs, long go, MemorySegment ds, long dxo, long from, long to) {
        long i = from;
        for (long end = from + S.loopBound(to - from); i < end; i += S.length()) {
            dTanh(load(xs, xo, i), load(gs, go, i)).intoMemorySegment(ds, dxo + 4 * i, NO);
        }
        if (i < to) {
            VectorMask<Float> m = S.indexInRange(i, to);
            dTanh(load(xs, xo, i, m), load(gs, go, i, m)).intoMemorySegment(ds, dxo + 4 * i, NO, m);
        }
    }

    private static void f32SiluBackward(MemorySegment xs, long xo, MemorySegment gs, long go, MemorySegment ds, long dxo, long from, long to) {
        long i = from;
        for (long end = from + S.loopBound(to - from); i < end; i += S.length()) {
            dSilu(load(xs, xo, i), load(gs, go, i)).intoMemorySegment(ds, dxo + 4 * i, NO);
        }
        if (i < to) {
            VectorMask<Float> m = S.indexInRange(i, to);
            dSilu(load(xs, xo, i, m), load(gs, go, i, m)).intoMemorySegment(ds, dxo + 4 * i, NO, m);
        }
    }

    private static void f32MishBackward(MemorySegment xs, long xo, MemorySegment gs, long go, MemorySegment ds, long dxo, long from, long to) {
        long i = from;
        for (long end = from + S.loopBound(to - from); i < end; i += S.length()) {
            dMish(load(xs, xo, i), load(gs, go, i)).intoMemorySegment(ds, dxo + 4 * i, NO);
        }
        if (i < to) {
            VectorMask<Float> m = S.indexInRange(i, to);
            dMish(load(xs, xo, i, m), load(gs, go, i, m)).intoMemorySegment(ds, dxo + 4 * i, NO, m);
        }
    }

    private static void f32SoftplusBackward(MemorySegment xs, long xo, MemorySegment gs, long go, MemorySegment ds, long dxo, long from, long to) {
        long i = from;
        for (long end = from + S.loopBound(to - from); i < end; i += S.length()) {
            dSoftplus(load(xs, xo, i), load(gs, go, i)).intoMemorySegment(ds, dxo + 4 * i, NO);
        }
        if (i < to) {
            VectorMask<Float> m = S.indexInRange(i, to);
            dSoftplus(load(xs, xo, i, m), load(gs, go, i, m)).intoMemorySegment(ds, dxo + 4 * i, NO, m);
        }
    }

    /** f32-maxout over one (n, j) group: pieces planes of {@code inner} floats → one plane + I32 argmax. */
    private static void maxoutF32(int pieces, long inner, MemorySegment xs, long xo, MemorySegment ys, long yo, MemorySegment as, long ao) {
        for (long s = 0; s < inner; s++) {
            float best = xs.get(F, xo + 4 * s);
            int bestK = 0;
            for (int k = 1; k < pieces; k++) {
                float v = xs.get(F, xo + 4 * (k * inner + s));
                if (v > best || (v != v && best == best)) {
                    best = v;
                    bestK = k;
                }
            }
            ys.set(F, yo + 4 * s, best);
            as.set(ValueLayout.JAVA_INT_UNALIGNED, ao + 4 * s, bestK);
        }
    }
    /**
     * The split of one forward or backward call over the compute pool, reused per calling thread so that a
     * steady-state call allocates nothing (a capturing lambda would allocate once per call).
     */
    private static final class RangeJob implements java.util.function.IntConsumer {
        private static final ThreadLocal<RangeJob> PER_THREAD = ThreadLocal.withInitial(RangeJob::new);
        boolean backward, busy;
        ActivationFn act;
        MemorySegment xs, gs, out;
        long xo, go, oo, n;
        int tasks;

        static void run(boolean backward, ActivationFn act, MemorySegment xs, long xo, MemorySegment gs, long go,
                MemorySegment out, long oo, long n, int tasks) {
            RangeJob j = PER_THREAD.get();
            if (j.busy) j = new RangeJob();
            j.busy = true;
            j.backward = backward; j.act = act; j.xs = xs; j.xo = xo; j.gs = gs; j.go = go;
            j.out = out; j.oo = oo; j.n = n; j.tasks = tasks;
            try {
                ComputePool.parallelFor(tasks, j);
            } finally {
                j.xs = j.gs = j.out = null;
                j.act = null;
                j.busy = false;
            }
        }

        @Override
        public void accept(int t) {
            long from = Ranges.start(n, tasks, t), to = Ranges.start(n, tasks, t + 1);
            if (backward) backwardF32(act, xs, xo, gs, go, out, oo, from, to);
            else forwardF32(act, xs, xo, out, oo, from, to);
        }
    }
}
