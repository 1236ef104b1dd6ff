package tessera.autograd;

import java.util.Arrays;
import java.util.List;
import tessera.kernels.Activation;
import tessera.kernels.ActivationFn;
import tessera.kernels.PostOps;
import tessera.kernels.conv.Conv2d;
import tessera.kernels.conv.ConvAlgorithm;
import tessera.kernels.conv.ConvSpec;
import tessera.kernels.conv.ConvTranspose2d;
import tessera.kernels.conv.ConvTransposeSpec;
import tessera.kernels.eltwise.Activations;
import tessera.kernels.eltwise.Binary;
import tessera.kernels.eltwise.ChannelAffine;
import tessera.kernels.gemm.Gemm;
import tessera.kernels.norm.BatchNorm;
import tessera.kernels.norm.Dropout;
import tessera.kernels.norm.LocalResponseNorm;
import tessera.kernels.pool.Pool2d;
import tessera.kernels.pool.PoolSpec;
import tessera.kernels.reduce.CrossEntropy;
import tessera.kernels.reduce.Reductions;
import tessera.kernels.reduce.Softmax;
import tessera.kernels.volume.Conv3d;
import tessera.kernels.volume.Conv3dBackward;
import tessera.kernels.volume.Conv3dSpec;
import tessera.kernels.volume.ConvTranspose3dSpec;
import tessera.kernels.volume.Pool3d;
import tessera.kernels.volume.Pool3dSpec;
import tessera.memory.DType;
import tessera.memory.Shapes;
import tessera.memory.Tensor;

/**
 * The op table: every differentiable operation, its forward computation and its gradient, side by side.
 *
 * <p>Each op computes its output with a kernel (float32 → Vector API fast path, float64 → reference path, chosen by
 * the dtype of the inputs), then records a {@link Backward} rule that maps ∂L/∂y to ∂L/∂input for each input. The
 * rule captures only what it needs. Outputs and gradients are allocated in the current {@link Scope}.
 *
 * <p>Notation in comments: g = ∂L/∂y, the gradient arriving at the op's output.
 */
public final class Ops {
    private Ops() {}

    // ================================================================ arithmetic with broadcasting

    /** y = a + b (NumPy broadcasting).   ∂a = Σ_broadcast g,  ∂b = Σ_broadcast g */
    public static Variable add(Variable a, Variable b) {
        Tensor y = output(a, broadcast(a, b)), av = a.value(), bv = b.value();
        Runnable forward = computed(() -> Binary.apply(Binary.Op.ADD, av, bv, y));
        Tensor[] grads = new Tensor[2];
        return Graph.record("add", y, forward, g -> {
            grads[0] = reduceTo(g, a);
            grads[1] = reduceTo(g, b);
            return grads;
        }, a, b);
    }

    /** y = a − b.   ∂a = Σ g,  ∂b = −Σ g */
    public static Variable sub(Variable a, Variable b) {
        Tensor y = alloc(a, broadcast(a, b));
        Runnable forward = binaryForward(Binary.Op.SUB, a, b, y);
        return Graph.record("sub", y, forward, g -> new Tensor[]{reduceTo(g, a), b.requiresGrad() ? negate(reduceTo(g, b)) : null}, a, b);
    }

    /** y = a ⊙ b.   ∂a = Σ g⊙b,  ∂b = Σ g⊙a */
    public static Variable mul(Variable a, Variable b) {
        Tensor y = alloc(a, broadcast(a, b));
        Runnable forward = binaryForward(Binary.Op.MUL, a, b, y);
        return Graph.record("mul", y, forward, g -> new Tensor[]{
                a.requiresGrad() ? reduceTo(binary(Binary.Op.MUL, g, b.value()), a) : null,
                b.requiresGrad() ? reduceTo(binary(Binary.Op.MUL, g, a.value()), b) : null}, a, b);
    }

    /** y = a / b.   ∂a = Σ g/b,  ∂b = −Σ g⊙y/b */
    public static Variable div(Variable a, Variable b) {
        Tensor y = alloc(a, broadcast(a, b));
        Runnable forward = binaryForward(Binary.Op.DIV, a, b, y);
        return Graph.record("div", y, forward, g -> new Tensor[]{
                a.requiresGrad() ? reduceTo(binary(Binary.Op.DIV, g, b.value()), a) : null,
                b.requiresGrad() ? negate(reduceTo(binary(Binary.Op.DIV, binary(Binary.Op.MUL, g, y), b.value()), b)) : null}, a, b);
    }

    /** y = c·x for a constant scalar c.   ∂x = c·g */
    public static Variable scale(Variable x, double c) {
        Tensor y = Scope.alloc(x.dtype(), x.shape());
        Runnable forward = mapForward(x, v -> c * v, y);
        return Graph.record("scale", y, forward, g -> new Tensor[]{Pointwise.map(g, v -> c * v)}, x);
    }

    /** y = max(a, b) elementwise (same shapes).   ∂a = g where a ≥ b,  ∂b = g where b > a */
    public static Variable maximum(Variable a, Variable b) {
        sameShape("maximum", a, b);
        Tensor y = Scope.alloc(a.dtype(), a.shape()), av = a.value(), bv = b.value();
        Runnable forward = computed(() -> Pointwise.zipInto(av, bv, Math::max, y));
        return Graph.record("maximum", y, forward, g -> {
            Tensor ga = Pointwise.zip(a.value(), b.value(), (p, q) -> p >= q ? 1 : 0);
            Tensor gb = Pointwise.zip(a.value(), b.value(), (p, q) -> q > p ? 1 : 0);
            return new Tensor[]{binary(Binary.Op.MUL, g, ga), binary(Binary.Op.MUL, g, gb)};
        }, a, b);
    }

    // ================================================================ scalar math

    /** y = ln x.   ∂x = g / x */
    public static Variable log(Variable x) {
        Tensor y = Scope.alloc(x.dtype(), x.shape());
        Runnable forward = mapForward(x, Math::log, y);
        return Graph.record("log", y, forward, g -> new Tensor[]{binary(Binary.Op.DIV, g, x.value())}, x);
    }

    /** y = eˣ.   ∂x = g ⊙ y */
    public static Variable exp(Variable x) {
        Tensor y = Scope.alloc(x.dtype(), x.shape());
        Runnable forward = mapForward(x, Math::exp, y);
        return Graph.record("exp", y, forward, g -> new Tensor[]{binary(Binary.Op.MUL, g, y)}, x);
    }

    /** y = √x.   ∂x = g / (2y) */
    public static Variable sqrt(Variable x) {
        Tensor y = Scope.alloc(x.dtype(), x.shape());
        Runnable forward = mapForward(x, Math::sqrt, y);
        return Graph.record("sqrt", y, forward, g -> new Tensor[]{binary(Binary.Op.DIV, g, Pointwise.map(y, v -> 2 * v))}, x);
    }

    /** y = x².   ∂x = 2x ⊙ g */
    public static Variable square(Variable x) {
        Tensor y = Scope.alloc(x.dtype(), x.shape());
        Runnable forward = binaryForward(Binary.Op.MUL, x, x, y);
        return Graph.record("square", y, forward, g -> new Tensor[]{binary(Binary.Op.MUL, g, Pointwise.map(x.value(), v -> 2 * v))}, x);
    }

    // ================================================================ linear algebra

    /** y[m,n] = a[m,k] · b[k,n].   ∂a = g·bᵀ,  ∂b = aᵀ·g */
    public static Variable matmul(Variable a, Variable b) {
        check(a.value().rank() == 2 && b.value().rank() == 2 && a.dim(1) == b.dim(0), "matmul",
                () -> "expected a [m,k] and b [k,n], got " + shapes(a, b));
        Tensor y = alloc(a, a.dim(0), b.dim(1)), av = a.value(), bv = b.value();
        Runnable forward = computed(() -> Gemm.matmul(av, false, bv, false, 1f, 0f, y));
        return Graph.record("matmul", y, forward, g -> new Tensor[]{
                a.requiresGrad() ? mm(g, false, b.value(), true, a.value()) : null,
                b.requiresGrad() ? mm(a.value(), true, g, false, b.value()) : null}, a, b);
    }

    /** y[N,out] = x[N,in] · wᵀ + bias, with w [out,in] (PyTorch's Linear).   ∂x = g·w,  ∂w = gᵀ·x,  ∂bias = Σ_N g */
    public static Variable linear(Variable x, Variable w, Variable bias) {
        check(x.value().rank() == 2 && w.value().rank() == 2 && x.dim(1) == w.dim(1), "linear",
                () -> "expected x [N,in] and weight [out,in], got " + shapes(x, w));
        Tensor y = alloc(x, x.dim(0), w.dim(0)), xv = x.value(), wv = w.value();
        if (bias != null)
            check(bias.value().numel() == w.dim(0), "linear", () -> "bias has " + bias.value().numel() + " elements, expected " + w.dim(0));
        Tensor rows = bias == null ? null : bias.value().reshape(1, w.dim(0)).expand(x.dim(0), w.dim(0)); // bias per row
        Runnable forward = computed(() -> {
            if (rows != null) copyRows(y, bias.value(), rows);
            Gemm.matmul(xv, false, wv, true, 1f, rows != null ? 1f : 0f, y);
        });
        Tensor[] grads = new Tensor[3];
        return Graph.record("linear", y, forward, g -> {
            grads[0] = x.requiresGrad() ? mm(g, false, wv, false, xv) : null;
            grads[1] = w.requiresGrad() ? mm(g, true, xv, false, wv) : null;
            grads[2] = bias != null && bias.requiresGrad() ? sumRows(g, bias.value()) : null;
            return grads;
        }, x, w, bias);
    }

    // ================================================================ convolution

    /** Convolution spec for input x [N,C,H,W] and weight w [K,C/g,R,S]. */
    public static ConvSpec convSpec(int[] x, int[] w, ConvArgs a) {
        // plain ifs: a message lambda capturing the shapes was allocated on every call, also when the check passed
        if (x.length != 4 || w.length != 4)
            throw new IllegalArgumentException("conv2d: expected 4-d input and weight, got input " + Arrays.toString(x)
                    + " and weight " + Arrays.toString(w));
        if (a.groups() < 1 || x[1] != w[1] * a.groups())
            throw new IllegalArgumentException("conv2d: input has " + x[1] + " channels but weight " + Arrays.toString(w)
                    + " with groups=" + a.groups() + " expects " + (w[1] * a.groups()));
        return new ConvSpec(x[0], x[1], x[2], x[3], w[0], w[2], w[3], a.strideH(), a.strideW(), a.padTop(), a.padLeft(),
                a.padBottom(), a.padRight(), a.dilationH(), a.dilationW(), a.groups());
    }

    /** {@link #convSpec(int[], int[], ConvArgs)} from the variables' dimensions, without copying their shapes. */
    private static ConvSpec convSpec(Variable x, Variable w, ConvArgs a) {
        Tensor xv = x.value(), wv = w.value();
        if (xv.rank() != 4 || wv.rank() != 4 || a.groups() < 1 || xv.dim(1) != wv.dim(1) * a.groups())
            return convSpec(x.shape(), w.shape(), a); // throws, naming the shapes
        return new ConvSpec(xv.dim(0), xv.dim(1), xv.dim(2), xv.dim(3), wv.dim(0), wv.dim(2), wv.dim(3), a.strideH(),
                a.strideW(), a.padTop(), a.padLeft(), a.padBottom(), a.padRight(), a.dilationH(), a.dilationW(), a.groups());
    }

    /**
     * y = conv2d(x, w) + bias (cross-correlation).   ∂x = conv_transpose(g, w),  ∂w = corr(x, g),  ∂bias = Σ_{N,P,Q} g
     */
    public static Variable conv2d(Variable x, Variable w, Variable bias, ConvArgs args) {
        ConvSpec s = convSpec(x, w, args);
        Tensor y = output(x, s.batch(), s.outChannels(), s.outH(), s.outW()); // Conv2d overwrites its outputs
        Tensor xv = x.value(), wv = w.value(), bv = bias == null ? null : bias.value();
        Runnable forward = computed(() -> Conv2d.forward(s, ConvAlgorithm.AUTO, xv, wv, bv, PostOps.NONE, y));
        Tensor[] grads = new Tensor[3];
        // accumulating: a gradient already pending for x (a residual block's input) is added as dx is written
        AccumulatingBackward rule = (g, pending) -> {
            Tensor dx = null, dw = null, db = null;
            // the weight gradient first, while g is still in cache from the op that wrote it (a batch norm's backward):
            // small ResNet, 1 thread, forward + backward / forward 2.95 -> 2.85 over four alternating probe pairs (a
            // JMH run after it: within the spread of those before)
            boolean needW = w.requiresGrad(), needB = bias != null && bias.requiresGrad();
            if (needW || needB) {
                Tensor dwOut = outputLike(w);
                db = needB ? outputLike(bias) : null;
                Conv2d.backwardWeights(s, ConvAlgorithm.AUTO, x.value(), g, dwOut, db);
                dw = needW ? dwOut : null;
            }
            if (x.requiresGrad()) {
                dx = outputLike(x);
                Conv2d.backwardData(s, ConvAlgorithm.AUTO, g, w.value(), dx, pending == null ? null : pending[0]);
            }
            if (pending != null) { // a shared weight or bias (rare): added here
                if (dw != null && pending[1] != null) Binary.apply(Binary.Op.ADD, dw, pending[1], dw);
                if (db != null && pending[2] != null) Binary.apply(Binary.Op.ADD, db, pending[2], db);
            }
            grads[0] = dx;
            grads[1] = dw;
            grads[2] = db;
            return grads;
        };
        return Graph.record("conv2d", y, forward, rule, x, w, bias);
    }

    /** Transposed-convolution spec for x [N,Cin,H,W] and weight w [Cin, Cout/g, R, S]. */
    public static ConvTransposeSpec convTransposeSpec(int[] x, int[] w, ConvArgs a) {
        check(x.length == 4 && w.length == 4 && x[1] == w[0], "conv_transpose2d", () -> "expected input [N,Cin,H,W] and weight [Cin,Cout/g,R,S], got "
                + Arrays.toString(x) + " and " + Arrays.toString(w));
        return new ConvTransposeSpec(x[0], x[1], x[2], x[3], w[1] * a.groups(), w[2], w[3], a.strideH(), a.strideW(),
                a.padTop(), a.padLeft(), a.padBottom(), a.padRight(), a.outputPadH(), a.outputPadW(),
                a.dilationH(), a.dilationW(), a.groups());
    }

    /** y = conv_transpose2d(x, w) + bias.   ∂x = conv2d(g, w),  ∂w = corr(g, x),  ∂bias = Σ g */
    public static Variable convTranspose2d(Variable x, Variable w, Variable bias, ConvArgs args) {
        ConvTransposeSpec s = convTransposeSpec(x.shape(), w.shape(), args);
        Tensor y = alloc(x, s.batch(), s.outChannels(), s.outH(), s.outW());
        Tensor xv = x.value(), wv = w.value(), bv = bias == null ? null : bias.value();
        Runnable forward = computed(() -> ConvTranspose2d.forward(s, xv, wv, bv, y));
        return Graph.record("conv_transpose2d", y, forward, g -> {
            Tensor dx = null, dw = null, db = null;
            if (x.requiresGrad()) {
                dx = alloc(x, x.shape());
                ConvTranspose2d.backwardData(s, g, w.value(), dx);
            }
            boolean needW = w.requiresGrad(), needB = bias != null && bias.requiresGrad();
            if (needW || needB) {
                Tensor dwOut = alloc(w, w.shape());
                db = needB ? alloc(bias, bias.shape()) : null;
                ConvTranspose2d.backwardWeights(s, x.value(), g, dwOut, db);
                dw = needW ? dwOut : null;
            }
            return new Tensor[]{dx, dw, db};
        }, x, w, bias);
    }

    /** 3-D convolution: x [N,C,D,H,W], w [K,C/g,kD,kH,kW], bias [K] (nullable).   ∂x = corrᵀ(g, w),  ∂w = corr(g, x),  ∂bias = Σ g */
    public static Variable conv3d(Variable x, Variable w, Variable bias, Conv3dSpec s) {
        Tensor y = alloc(x, s.batch(), s.outChannels(), s.out(0), s.out(1), s.out(2));
        Tensor xv = x.value(), wv = w.value(), bv = bias == null ? null : bias.value();
        // y zeroed first, every time (the 3-D kernels do not promise to overwrite it)
        Runnable forward = computed(() -> { y.fill(0); Conv3d.forward(s, xv, wv, bv, y); });
        return Graph.record("conv3d", y, forward, g -> {
            Tensor dx = null, dw = null, db = null;
            if (x.requiresGrad()) {
                dx = alloc(x, x.shape());
                Conv3dBackward.backwardData(s, g, w.value(), dx);
            }
            boolean needW = w.requiresGrad(), needB = bias != null && bias.requiresGrad();
            if (needW || needB) {
                Tensor dwOut = alloc(w, w.shape());
                db = needB ? alloc(bias, bias.shape()) : null;
                Conv3dBackward.backwardWeights(s, x.value(), g, dwOut, db);
                dw = needW ? dwOut : null;
            }
            return new Tensor[]{dx, dw, db};
        }, x, w, bias);
    }

    /** 3-D transposed convolution: x [N,Cin,D,H,W], w [Cin,Cout/g,kD,kH,kW], bias [Cout] (nullable); gradients as conv3d's with the roles swapped. */
    public static Variable convTranspose3d(Variable x, Variable w, Variable bias, ConvTranspose3dSpec s) {
        Tensor y = alloc(x, s.batch(), s.outChannels(), s.out(0), s.out(1), s.out(2));
        Tensor xv = x.value(), wv = w.value(), bv = bias == null ? null : bias.value();
        Runnable forward = computed(() -> { y.fill(0); Conv3d.transposeForward(s, xv, wv, bv, y); });
        return Graph.record("conv_transpose3d", y, forward, g -> {
            Tensor dx = null, dw = null, db = null;
            if (x.requiresGrad()) {
                dx = alloc(x, x.shape());
                Conv3dBackward.transposeBackwardData(s, g, w.value(), dx);
            }
            boolean needW = w.requiresGrad(), needB = bias != null && bias.requiresGrad();
            if (needW || needB) {
                Tensor dwOut = alloc(w, w.shape());
                db = needB ? alloc(bias, bias.shape()) : null;
                Conv3dBackward.transposeBackwardWeights(s, x.value(), g, dwOut, db);
                dw = needW ? dwOut : null;
            }
            return new Tensor[]{dx, dw, db};
        }, x, w, bias);
    }

    /** 3-D max, average or L2 pooling of x [N,C,D,H,W].   ∂x: see {@link Pool3d#backward} */
    public static Variable pool3d(Variable x, Pool3dSpec spec) {
        check(x.value().rank() == 5, "pool3d", () -> "expected input [N,C,D,H,W], got " + Arrays.toString(x.shape()));
        int[] in = {x.dim(2), x.dim(3), x.dim(4)}, out = spec.out(in);
        Tensor y = alloc(x, x.dim(0), x.dim(1), out[0], out[1], out[2]);
        Tensor xv = x.value();
        Runnable forward = computed(() -> { y.fill(0); Pool3d.forward(spec, xv, y, null); });
        return Graph.record("pool3d_" + spec.type().name().toLowerCase(), y, forward, g -> {
            Tensor dx = alloc(x, x.shape());
            Pool3d.backward(spec, x.value(), g, dx);
            return new Tensor[]{dx};
        }, x);
    }

    // ================================================================ pooling

    /** Max, average or L2 pooling.   ∂x: max → g routed to each window's argmax; avg → g/|window|; L2 → g·x/y */
    public static Variable pool2d(Variable x, PoolSpec spec) {
        check(x.value().rank() == 4, "pool2d", () -> "expected input [N,C,H,W], got " + Arrays.toString(x.shape()));
        Tensor y = alloc(x, x.dim(0), x.dim(1), spec.outH(x.dim(2)), spec.outW(x.dim(3)));
        Tensor idx = spec.type() == tessera.kernels.pool.PoolType.MAX ? Scope.alloc(DType.I64, y.shape()) : null;
        Tensor xv = x.value();
        Runnable forward = computed(() -> Pool2d.forward(spec, xv, y, idx));
        Tensor[] grads = new Tensor[1];
        return Graph.record("pool2d_" + spec.type().name().toLowerCase(), y, forward, g -> {
            Tensor dx = Scope.allocLike(xv);
            Pool2d.backward(spec, xv, y, idx, g, dx);
            grads[0] = dx;
            return grads;
        }, x);
    }

    /** Max pooling that also returns the argmax indices (I64 flat h·W+w per plane) for {@link #maxUnpool}. */
    public static Variable[] maxPool2dWithIndices(Variable x, PoolSpec spec) {
        Tensor y = alloc(x, x.dim(0), x.dim(1), spec.outH(x.dim(2)), spec.outW(x.dim(3)));
        Tensor idx = Scope.alloc(DType.I64, y.shape()), xv = x.value();
        Runnable forward = computed(() -> Pool2d.forward(spec, xv, y, idx));
        Variable out = Graph.record("max_pool2d", y, forward, g -> {
            Tensor dx = alloc(x, x.shape());
            Pool2d.backward(spec, x.value(), y, idx, g, dx);
            return new Tensor[]{dx};
        }, x);
        return new Variable[]{out, Variable.constant(idx)};
    }

    /** Scatters x into a zero map of size outH×outW at the pooling indices.   ∂x = g gathered at the indices */
    public static Variable maxUnpool(Variable x, Tensor indices, int outH, int outW) {
        Tensor y = alloc(x, x.dim(0), x.dim(1), outH, outW), xv = x.value();
        Runnable forward = computed(() -> Pool2d.maxUnpool(xv, indices, y));
        return Graph.record("max_unpool2d", y, forward, g -> {
            Tensor dx = alloc(x, x.shape());
            Pool2d.maxUnpoolBackward(indices, g, dx);
            return new Tensor[]{dx};
        }, x);
    }

    /** y [N,C,1,1] = mean over H×W.   ∂x = g / (H·W) broadcast */
    public static Variable globalAvgPool(Variable x) {
        Tensor y = alloc(x, x.dim(0), x.dim(1), 1, 1), xv = x.value();
        Runnable forward = computed(() -> Pool2d.globalAvg(xv, y));
        Tensor[] grads = new Tensor[1];
        return Graph.record("global_avg_pool", y, forward, g -> {
            Tensor dx = Scope.allocLike(xv);
            Pool2d.globalAvgBackward(g, dx);
            grads[0] = dx;
            return grads;
        }, x);
    }

    /** y [N,C,1,1] = max over H×W.   ∂x = g at the argmax */
    public static Variable globalMaxPool(Variable x) {
        Tensor y = alloc(x, x.dim(0), x.dim(1), 1, 1);
        Tensor idx = Scope.alloc(DType.I64, y.shape()), xv = x.value();
        Runnable forward = computed(() -> Pool2d.globalMax(xv, y, idx));
        return Graph.record("global_max_pool", y, forward, g -> {
            Tensor dx = alloc(x, x.shape());
            Pool2d.globalMaxBackward(idx, g, dx);
            return new Tensor[]{dx};
        }, x);
    }

    // ================================================================ activations

    /**
     * y = f(x) for a pointwise table activation with its parameters (see {@link ActivationFn}: formulas, parameter
     * meanings, and the PyTorch gradient at kinks, e.g. Clip passes the gradient at its bounds like torch.clamp).
     * ∂x = g ⊙ f'(x)
     */
    public static Variable activation(Variable x, ActivationFn act) {
        if (act == null) throw new IllegalArgumentException("act must not be null (use ActivationFn.IDENTITY)");
        Tensor y = outputLike(x), xv = x.value(); // Activations overwrite their outputs
        Runnable forward = computed(() -> Activations.forward(act, xv, y));
        Tensor[] grads = new Tensor[1];
        return Graph.record(act.kind().name().toLowerCase(), y, forward, g -> {
            Tensor dx = outputLike(x);
            Activations.backward(act, xv, y, g, dx);
            grads[0] = dx;
            return grads;
        }, x);
    }

    /** The one-scalar form ({@code alpha}: LEAKY_RELU's slope, ELU's alpha; not for CLIP, HARD_SIGMOID, SELU). */
    public static Variable activation(Variable x, Activation act, float alpha) {
        return activation(x, ActivationFn.of(act, alpha));
    }

    public static Variable relu(Variable x) { return activation(x, ActivationFn.RELU); }

    /** y = x if x ≥ 0 else a·x, slope a per channel (dim 1).   ∂x = g·(1 or a),  ∂a = Σ g·x over x < 0 */
    public static Variable prelu(Variable x, Variable slope) {
        Tensor y = alloc(x, x.shape()), xv = x.value(), sv = slope.value();
        Runnable forward = computed(() -> Activations.preluForward(xv, sv, y));
        return Graph.record("prelu", y, forward, g -> {
            Tensor dx = alloc(x, x.shape());
            Tensor ds = alloc(slope, slope.shape());
            Activations.preluBackward(x.value(), slope.value(), g, dx, ds);
            return new Tensor[]{dx, slope.requiresGrad() ? ds : null};
        }, x, slope);
    }

    /** Maxout over groups of {@code pieces} consecutive channels.   ∂x = g at each group's argmax */
    public static Variable maxout(Variable x, int pieces) {
        check(pieces >= 1 && x.dim(1) % pieces == 0, "maxout", () -> x.dim(1) + " channels are not divisible by pieces=" + pieces);
        int[] ys = x.shape();
        ys[1] /= pieces;
        Tensor y = alloc(x, ys);
        Tensor argmax = Scope.alloc(DType.I32, ys), xv = x.value();
        Runnable forward = computed(() -> Activations.maxoutForward(xv, pieces, y, argmax));
        return Graph.record("maxout", y, forward, g -> {
            Tensor dx = alloc(x, x.shape());
            Activations.maxoutBackward(argmax, pieces, g, dx);
            return new Tensor[]{dx};
        }, x);
    }

    // ================================================================ normalization and regularization

    /**
     * Batch normalization over dim 1 of x [N,C] or [N,C,H,W]. Training: batch statistics, running statistics
     * updated in place with {@code momentum} (PyTorch's convention). Eval: running statistics.
     * ∂ (training): the standard batch-norm backward through mean and variance; ∂ (eval): a per-channel affine map.
     */
    public static Variable batchNorm(Variable x, Variable gamma, Variable beta, Tensor runningMean, Tensor runningVar,
                                     boolean training, double momentum, double eps) {
        int c = x.dim(1);
        Tensor y = outputLike(x); // BatchNorm overwrites y (and dx, dgamma, dbeta)
        Tensor xv = x.value(), gv = gamma.value(), bv = beta.value();
        if (training) {
            Tensor mean = channelVector(x, gamma, c), invStd = channelVector(x, gamma, c);
            Runnable forward = computed(() -> BatchNorm.forwardTraining(xv, gv, bv, runningMean, runningVar, momentum, eps, y, mean, invStd));
            Tensor[] grads = new Tensor[3];
            return Graph.record("batch_norm", y, forward, g -> {
                Tensor dx = outputLike(x), dg = channelVector(gamma, gamma, c), db = channelVector(beta, gamma, c);
                BatchNorm.backward(xv, gv, mean, invStd, g, dx, dg, db);
                grads[0] = dx;
                grads[1] = gamma.requiresGrad() ? dg : null;
                grads[2] = beta.requiresGrad() ? db : null;
                return grads;
            }, x, gamma, beta);
        }
        Runnable forward = computed(() -> BatchNorm.forwardInference(xv, gv, bv, runningMean, runningVar, eps, y));
        return Graph.record("batch_norm_eval", y, forward, g -> {
            Tensor invStd = Pointwise.map(runningVar, v -> 1 / Math.sqrt(v + eps));
            Tensor scale = binary(Binary.Op.MUL, gamma.value(), invStd);
            Tensor dx = alloc(x, x.shape());
            ChannelAffine.forward(g, scale, null, dx);
            Tensor negMeanInv = binary(Binary.Op.MUL, Pointwise.map(runningMean, v -> -v), invStd);
            Tensor xhat = alloc(x, x.shape());
            ChannelAffine.forward(x.value(), invStd, negMeanInv, xhat);
            Tensor dg = channelSum(binary(Binary.Op.MUL, g, xhat), c);
            Tensor db = channelSum(g, c);
            return new Tensor[]{dx, dg, db};
        }, x, gamma, beta);
    }

    /**
     * relu(batchNorm(x)) in training mode as one op: the ReLU is applied in the normalization's output pass, and its
     * gradient as the batch-norm backward reads g (no intermediate tensor, one pass fewer each way). Same values,
     * bit for bit, as {@code relu(batchNorm(x, …, true, …))}.
     */
    public static Variable batchNormRelu(Variable x, Variable gamma, Variable beta, Tensor runningMean, Tensor runningVar,
                                         double momentum, double eps) {
        int c = x.dim(1);
        Tensor y = outputLike(x);
        Tensor mean = channelVector(x, gamma, c), invStd = channelVector(x, gamma, c);
        // the coefficients y was computed with, when a backward may follow: it tells where the ReLU was open from x
        // with them instead of reading y again
        Tensor open = x.dtype() == DType.F32 && GradMode.isEnabled() ? Scope.allocUninitialized(DType.F32, 4 * c) : null;
        Tensor xv = x.value(), gv = gamma.value(), bv = beta.value();
        Runnable forward = computed(() -> BatchNorm.forwardTraining(xv, gv, bv, runningMean, runningVar, momentum, eps, y, mean, invStd,
                true, open));
        Tensor[] grads = new Tensor[3];
        return Graph.record("batch_norm_relu", y, forward, g -> {
            Tensor dx = outputLike(x), dg = channelVector(gamma, gamma, c), db = channelVector(beta, gamma, c);
            BatchNorm.backward(xv, gv, mean, invStd, g, y, open, dx, dg, db);
            grads[0] = dx;
            grads[1] = gamma.requiresGrad() ? dg : null;
            grads[2] = beta.requiresGrad() ? db : null;
            return grads;
        }, x, gamma, beta);
    }

    /** Local response normalization across channels (PyTorch's LocalResponseNorm). */
    public static Variable localResponseNorm(Variable x, int size, double alpha, double beta, double k) {
        Tensor y = alloc(x, x.shape()), xv = x.value();
        Runnable forward = computed(() -> LocalResponseNorm.forward(xv, size, alpha, beta, k, y));
        return Graph.record("local_response_norm", y, forward, g -> {
            Tensor dx = alloc(x, x.shape());
            LocalResponseNorm.backward(x.value(), y, g, size, alpha, beta, k, dx);
            return new Tensor[]{dx};
        }, x);
    }

    /** Inverted dropout: training → y = x ⊙ m, m ∈ {0, 1/(1−p)} seeded; eval → y = x.   ∂x = g ⊙ m */
    public static Variable dropout(Variable x, double p, boolean training, long seed) {
        if (p < 0 || p >= 1) throw new IllegalArgumentException("dropout: p=" + p + " must be in [0, 1)");
        if (!training || p == 0) return x;
        Tensor mask = Scope.allocLike(x.value()), y = Scope.allocLike(x.value()), xv = x.value();
        // replayed by a CapturedStep, the mask is drawn again, from the replay's seed (OpSeeds: as a ForwardContext does)
        Runnable forward = computed(() -> {
            Dropout.mask(Graph.stepSeed(seed), p, mask);
            Binary.apply(Binary.Op.MUL, xv, mask, y);
        });
        Tensor[] grads = new Tensor[1];
        return Graph.record("dropout", y, forward, g -> {
            Tensor dx = Scope.allocLike(xv);
            Binary.apply(Binary.Op.MUL, g, mask, dx);
            grads[0] = dx;
            return grads;
        }, x);
    }

    // ================================================================ softmax and losses

    /** y = softmax(x) along axis.   ∂x = y ⊙ (g − Σ g⊙y) */
    public static Variable softmax(Variable x, int axis) {
        Tensor y = alloc(x, x.shape()), xv = x.value();
        Runnable forward = computed(() -> Softmax.forward(xv, axis, y));
        return Graph.record("softmax", y, forward, g -> {
            Tensor dx = alloc(x, x.shape());
            Softmax.backward(y, g, axis, dx);
            return new Tensor[]{dx};
        }, x);
    }

    /** y = log softmax(x) along axis.   ∂x = g − softmax(x)·Σ g */
    public static Variable logSoftmax(Variable x, int axis) {
        Tensor y = alloc(x, x.shape()), xv = x.value();
        Runnable forward = computed(() -> Softmax.logForward(xv, axis, y));
        return Graph.record("log_softmax", y, forward, g -> {
            Tensor dx = alloc(x, x.shape());
            Softmax.logBackward(y, g, axis, dx);
            return new Tensor[]{dx};
        }, x);
    }

    /**
     * Cross-entropy of logits [N,C] against integer labels (I64 [N]), mean or sum over N, optional label smoothing ε.
     * Output shape [1].   ∂logits = (softmax(logits) − q)·g / (N if mean), q = (1−ε)·onehot + ε/C
     */
    public static Variable crossEntropy(Variable logits, Tensor labels, boolean mean, double labelSmoothing) {
        check(logits.value().rank() == 2 && labels.rank() == 1 && labels.dim(0) == logits.dim(0), "cross_entropy",
                () -> "expected logits [N,C] and labels [N], got " + Arrays.toString(logits.shape()) + " and " + Arrays.toString(labels.shape()));
        Tensor y = alloc(logits, 1), lv = logits.value();
        Runnable forward = computed(() -> y.setItem(CrossEntropy.forward(lv, labels, mean, labelSmoothing)));
        Tensor[] grads = new Tensor[1];
        return Graph.record("cross_entropy", y, forward, g -> {
            Tensor dx = Scope.allocLike(lv);
            CrossEntropy.backward(lv, labels, mean, labelSmoothing, g.item(), dx);
            grads[0] = dx;
            return grads;
        }, logits);
    }

    /** Negative log-likelihood of log-probabilities [N,C] at labels [N], mean or sum.   ∂logp[i, yᵢ] = −g (/N) */
    public static Variable nllLoss(Variable logProbs, Tensor labels, boolean mean) {
        int n = logProbs.dim(0), c = logProbs.dim(1);
        double div = mean ? n : 1;
        Tensor y = alloc(logProbs, 1), lp = logProbs.value();
        Runnable forward = computed(() -> {
            double total = 0;
            for (int i = 0; i < n; i++) total -= lp.getDouble(i, label(labels, i, c));
            y.setItem(total / div);
        });
        return Graph.record("nll_loss", y, forward, g -> {
            Tensor dx = alloc(logProbs, logProbs.shape());
            double gv = g.getDouble(0) / div;
            for (int i = 0; i < n; i++) dx.set(-gv, i, label(labels, i, c));
            return new Tensor[]{dx};
        }, logProbs);
    }

    /** Mean (or sum) of squared differences; output [1].   ∂a = 2(a−b)·g / (n if mean),  ∂b = −∂a */
    public static Variable mse(Variable a, Variable b, boolean mean) {
        sameShape("mse", a, b);
        Tensor d = Scope.allocLike(a.value()), av = a.value(), bv = b.value();
        double div = mean ? d.numel() : 1;
        Tensor y = alloc(a, 1);
        Runnable forward = computed(() -> {
            Binary.apply(Binary.Op.SUB, av, bv, d);
            double s = 0;
            for (double v : d.toDoubleArray()) s += v * v;
            y.setItem(s / div);
        });
        return Graph.record("mse", y, forward, g -> {
            double k = 2 * g.getDouble(0) / div;
            Tensor ga = Pointwise.map(d, v -> k * v);
            return new Tensor[]{ga, b.requiresGrad() ? negate(ga) : null};
        }, a, b);
    }

    // ================================================================ shape ops

    /** Same elements, new shape (one dimension may be −1).   ∂x = reshape(g, x.shape) */
    public static Variable reshape(Variable x, int... shape) {
        Tensor xv = x.value();
        Tensor copy = xv.isContiguous() ? null : copyOf(xv); // a view when it can be, else a copy to view
        Tensor y = (copy == null ? xv : copy).reshape(shape);
        Runnable forward = copy == null ? NOTHING : () -> copy.copyFrom(xv);
        Tensor[] grads = new Tensor[1];
        Tensor[] last = new Tensor[2]; // the last gradient and its view: a replay gets the same gradient tensor again
        return Graph.record("reshape", y, forward, g -> {
            if (last[0] != g) {
                last[0] = g;
                last[1] = contiguous(g).reshape(x.shape());
            }
            grads[0] = last[1];
            return grads;
        }, x);
    }

    /** Flattens dims from {@code startDim} on: [N,C,H,W] → [N, C·H·W] for startDim 1. */
    public static Variable flatten(Variable x, int startDim) {
        int[] s = x.shape();
        int[] t = Arrays.copyOf(s, startDim + 1);
        t[startDim] = -1;
        return reshape(x, t);
    }

    /** Reorders dimensions (materialized contiguously).   ∂x = permute(g, inverse order) */
    public static Variable permute(Variable x, int... order) {
        Tensor permuted = x.value().permute(order), y = copyOf(permuted);
        Runnable forward = () -> y.copyFrom(permuted);
        int[] inverse = new int[order.length];
        for (int i = 0; i < order.length; i++) inverse[order[i]] = i;
        return Graph.record("permute", y, forward, g -> new Tensor[]{copyOf(g.permute(inverse))}, x);
    }

    /** Concatenation along {@code axis}.   ∂xᵢ = the slice of g that xᵢ occupies */
    public static Variable concat(List<Variable> xs, int axis) {
        check(!xs.isEmpty(), "concat", () -> "needs at least one input");
        int[] s = xs.get(0).shape();
        int ax = axis < 0 ? axis + s.length : axis;
        int total = 0;
        for (Variable v : xs) {
            int[] vs = v.shape();
            boolean ok = vs.length == s.length;
            for (int d = 0; ok && d < s.length; d++) ok = d == ax || vs[d] == s[d];
            check(ok, "concat", () -> "inputs must agree except along axis " + ax + ", got " + Arrays.toString(s) + " and " + Arrays.toString(vs));
            total += vs[ax];
        }
        int[] ys = s.clone();
        ys[ax] = total;
        Tensor y = alloc(xs.get(0), ys);
        int[] starts = new int[xs.size()];
        Tensor[] parts = new Tensor[xs.size()], values = new Tensor[xs.size()]; // y's slice for each input, and its value
        int at = 0;
        for (int i = 0; i < xs.size(); i++) {
            starts[i] = at;
            parts[i] = y.narrow(ax, at, xs.get(i).dim(ax));
            values[i] = xs.get(i).value();
            at += xs.get(i).dim(ax);
        }
        Runnable forward = computed(() -> { for (int i = 0; i < parts.length; i++) parts[i].copyFrom(values[i]); });
        Variable[] inputs = xs.toArray(new Variable[0]);
        return Graph.record("concat", y, forward, g -> {
            Tensor[] out = new Tensor[inputs.length];
            for (int i = 0; i < inputs.length; i++) {
                if (inputs[i].requiresGrad()) out[i] = copyOf(g.narrow(ax, starts[i], inputs[i].dim(ax)));
            }
            return out;
        }, inputs);
    }

    /** Elements start, start+step, … < end along axis.   ∂x = zeros with g scattered into the slice */
    public static Variable slice(Variable x, int axis, int start, int end, int step) {
        Tensor sliced = x.value().slice(axis, start, end, step), y = copyOf(sliced);
        Runnable forward = () -> y.copyFrom(sliced);
        return Graph.record("slice", y, forward, g -> {
            Tensor dx = alloc(x, x.shape());
            dx.slice(axis, start, end, step).copyFrom(g);
            return new Tensor[]{dx};
        }, x);
    }

    /** Constant padding of the last two dims by (top, left, bottom, right).   ∂x = the interior of g */
    public static Variable pad2d(Variable x, int top, int left, int bottom, int right, double value) {
        check(top >= 0 && left >= 0 && bottom >= 0 && right >= 0, "pad2d", () -> "negative padding (" + top + "," + left + "," + bottom + "," + right + ")");
        int[] s = x.shape();
        int r = s.length;
        int[] ys = s.clone();
        ys[r - 2] += top + bottom;
        ys[r - 1] += left + right;
        Tensor y = alloc(x, ys), inner = y.narrow(r - 2, top, s[r - 2]).narrow(r - 1, left, s[r - 1]), xv = x.value();
        if (value != 0) y.fill(value); // the border, written once: replays only rewrite the inside
        Runnable forward = computed(() -> inner.copyFrom(xv));
        return Graph.record("pad2d", y, forward, g -> new Tensor[]{copyOf(g.narrow(r - 2, top, s[r - 2]).narrow(r - 1, left, s[r - 1]))}, x);
    }

    // ================================================================ reductions

    /** Sum of all elements, shape [1].   ∂x = g broadcast */
    public static Variable sum(Variable x) {
        int[] axes = allAxes(x);
        Tensor keep = alloc(x, ones(x.value().rank())), xv = x.value();
        Runnable forward = computed(() -> Reductions.sum(xv, axes, keep));
        Tensor y = keep.reshape(1);
        return Graph.record("sum", y, forward, g -> new Tensor[]{copyOf(g.reshape(ones(x.value().rank())).expand(x.shape()))}, x);
    }

    /** Mean of all elements, shape [1].   ∂x = g / n broadcast */
    public static Variable mean(Variable x) {
        double n = x.value().numel();
        return scale(sum(x), 1.0 / n);
    }

    /** Sum over {@code axes}, keeping them as size 1.   ∂x = g broadcast back */
    public static Variable sum(Variable x, int... axes) {
        int[] ys = x.shape();
        for (int a : axes) ys[a < 0 ? a + ys.length : a] = 1;
        Tensor y = alloc(x, ys), xv = x.value();
        Runnable forward = computed(() -> Reductions.sum(xv, axes, y));
        return Graph.record("sum_axes", y, forward, g -> new Tensor[]{copyOf(g.expand(x.shape()))}, x);
    }

    /** Mean over {@code axes}, keeping them as size 1. */
    public static Variable mean(Variable x, int... axes) {
        int[] s = x.shape();
        long n = 1;
        for (int a : axes) n *= s[a < 0 ? a + s.length : a];
        return scale(sum(x, axes), 1.0 / n);
    }

    /** Squeeze-and-excitation channel scaling: y = x ⊙ s with s [N,C] or [N,C,1,1] broadcast over H×W. */
    public static Variable scaleChannels(Variable x, Variable s) {
        Variable s4 = s.value().rank() == 2 ? reshape(s, s.dim(0), s.dim(1), 1, 1) : s;
        return mul(x, s4);
    }

    // ================================================================ user-defined ops

    /**
     * Records an op computed outside this table (a plugin layer with a hand-written gradient): {@code out} is the
     * already computed result (allocate it with {@link Scope#alloc} so the current scope owns it) and
     * {@code backward} maps ∂L/∂out to ∂L/∂input for each of {@code inputs}, in order (null where none). Nothing is
     * recorded when grad mode is off or no input requires a gradient. The rule is trusted as written: verify it
     * with {@code ./tessera gradcheck}. A {@link CapturedStep} cannot replay such an op (it refuses it by name): use
     * the overload with a forward computation for that.
     */
    public static Variable custom(String name, Tensor out, Backward backward, Variable... inputs) {
        return custom(name, out, null, backward, inputs);
    }

    /**
     * As above, with the computation that produced {@code out}: {@code forward} recomputes it in place from the
     * inputs' current values (kernels on the same tensors, no allocation), so that a {@link CapturedStep} can replay
     * the op. Call it yourself for the first result, or compute that as you like.
     */
    public static Variable custom(String name, Tensor out, Runnable forward, Backward backward, Variable... inputs) {
        if (name == null || name.isBlank()) throw new IllegalArgumentException("custom op: name must be non-empty");
        if (out == null || backward == null) throw new IllegalArgumentException("custom op '" + name + "': out and backward must not be null");
        return Graph.record(name, out, forward, backward, inputs);
    }

    /**
     * Identity that shows the gradient passing through it: y = x (the same tensor, no copy); during backward,
     * {@code sink} receives ∂L/∂y (x's shape, owned by the backward pass's scope: copy what you keep) before it flows on
     * to x unchanged. When x has several consumers, tapping once and using y everywhere gives the summed gradient.
     * Used to read the gradient at an intermediate value (Grad-CAM).
     */
    public static Variable tap(Variable x, java.util.function.Consumer<Tensor> sink) {
        if (sink == null) throw new IllegalArgumentException("tap: sink must not be null");
        return Graph.record("tap", x.value(), NOTHING, g -> {
            sink.accept(g);
            return new Tensor[]{g};
        }, x);
    }

    // ================================================================ helpers

    static Tensor alloc(Variable like, int... shape) { return Scope.alloc(like.dtype(), shape); }

    /** Uninitialized scope memory for the output of a kernel that overwrites all of it (see {@link Scope#allocUninitialized}). */
    static Tensor output(Variable like, int... shape) { return Scope.allocUninitialized(like.dtype(), shape); }

    /**
     * A zero-filled [C] tensor of {@code of}'s dtype (batch-norm statistics and parameter gradients): shaped like
     * gamma, whose shape and stride arrays it shares when gamma is such a vector of that dtype.
     */
    private static Tensor channelVector(Variable of, Variable gamma, int c) {
        Tensor g = gamma.value();
        return g.dtype() == of.dtype() && g.rank() == 1 && g.dim(0) == c ? Scope.allocLike(g) : alloc(of, c);
    }

    /** An output of like's dtype and shape that the kernel overwrites (no shape or stride arrays allocated). */
    static Tensor outputLike(Variable like) { return Scope.allocUninitializedLike(like.value()); }

    private static int[] broadcast(Variable a, Variable b) { return Shapes.broadcast(a.shape(), b.shape()); }

    private static Tensor reduceTo(Tensor g, Variable target) {
        if (!target.requiresGrad()) return null;
        if (g.sameShapeAs(target.value())) return g;
        Tensor out = Scope.allocLike(target.value());
        Binary.sumToShape(g, out);
        return out;
    }

    /** An op's forward computation, run once now for its first result: returned for {@link Graph#record}. */
    private static Runnable computed(Runnable forward) {
        forward.run();
        return forward;
    }

    /** y = a op b (broadcasting) as a forward computation, run once here. */
    private static Runnable binaryForward(Binary.Op op, Variable a, Variable b, Tensor y) {
        Tensor av = a.value(), bv = b.value();
        return computed(() -> Binary.apply(op, av, bv, y));
    }

    /** y = f(x) elementwise (double precision, {@link Pointwise}) as a forward computation, run once here. */
    private static Runnable mapForward(Variable x, java.util.function.DoubleUnaryOperator f, Tensor y) {
        Tensor xv = x.value();
        return computed(() -> Pointwise.mapInto(xv, f, y));
    }

    /** The forward computation of an op whose output is a view of its input: nothing to recompute. */
    private static final Runnable NOTHING = () -> { };

    private static Tensor binary(Binary.Op op, Tensor a, Tensor b) {
        int[] s = Shapes.broadcast(a.shape(), b.shape());
        Tensor y = Scope.alloc(a.dtype(), s);
        Binary.apply(op, a, b, y);
        return y;
    }

    private static Tensor negate(Tensor t) {
        if (t == null) return null;
        return Pointwise.map(t, v -> -v);
    }

    /** a·b (transposed as asked) into a zeroed scope tensor shaped like {@code like}. */
    private static Tensor mm(Tensor a, boolean ta, Tensor b, boolean tb, Tensor like) {
        Tensor c = Scope.allocLike(like);
        Gemm.matmul(a, ta, b, tb, 1f, 0f, c);
        return c;
    }

    /** Σ over the rows of g [N, out] into a tensor shaped like the bias ([out] or [1, out]). */
    private static Tensor sumRows(Tensor g, Tensor bias) {
        Tensor out = Scope.allocLike(bias);
        Binary.sumToShape(g, out);
        return out;
    }

    /** Each row of y [N, out] set to the bias (out elements, contiguous when y is); else the expanded view's copy. */
    private static void copyRows(Tensor y, Tensor bias, Tensor expanded) {
        if (!y.isContiguous() || !bias.isContiguous() || y.dtype() != bias.dtype()) {
            y.copyFrom(expanded);
            return;
        }
        long row = bias.numel() * bias.dtype().byteSize();
        long from = bias.offset() * bias.dtype().byteSize(), to = y.offset() * y.dtype().byteSize();
        for (int i = 0; i < y.dim(0); i++)
            java.lang.foreign.MemorySegment.copy(bias.segment(), from, y.segment(), to + i * row, row);
    }

    private static Tensor channelSum(Tensor t, int c) {
        int[] ks = t.shape();
        int[] axes = new int[ks.length - 1];
        for (int i = 0, k = 0; i < ks.length; i++) {
            if (i != 1) { axes[k++] = i; ks[i] = 1; }
        }
        Tensor out = Scope.alloc(t.dtype(), ks);
        Reductions.sum(t, axes, out);
        return out.reshape(c);
    }

    static Tensor copyOf(Tensor t) {
        Tensor c = Scope.alloc(t.dtype(), t.shape());
        c.copyFrom(t);
        return c;
    }

    private static Tensor contiguous(Tensor t) { return t.isContiguous() ? t : copyOf(t); }

    private static int[] allAxes(Variable x) {
        int[] a = new int[x.value().rank()];
        for (int i = 0; i < a.length; i++) a[i] = i;
        return a;
    }

    private static int[] ones(int n) {
        int[] o = new int[n];
        Arrays.fill(o, 1);
        return o;
    }

    private static int label(Tensor labels, int i, int classes) {
        long l = (long) labels.getDouble(i);
        if (l < 0 || l >= classes) {
            throw new IllegalArgumentException("label " + l + " at position " + i + " is outside [0, " + classes + ")");
        }
        return (int) l;
    }

    private static void sameShape(String op, Variable a, Variable b) {
        check(a.value().sameShapeAs(b.value()), op, () -> "inputs must have the same shape, got " + shapes(a, b));
    }

    private static String shapes(Variable a, Variable b) {
        return Arrays.toString(a.shape()) + " and " + Arrays.toString(b.shape());
    }

    /** Throws when {@code ok} is false; the message is built only then (checks run on every op of a training step). */
    private static void check(boolean ok, String op, java.util.function.Supplier<String> message) {
        if (!ok) throw new IllegalArgumentException(op + ": " + message.get());
    }
}
