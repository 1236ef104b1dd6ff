package tessera.onnx.infer;

import java.util.Arrays;
import tessera.kernels.ActivationFn;
import tessera.kernels.conv.ConvPlan;
import tessera.kernels.conv.ConvSpec;
import tessera.kernels.conv.ConvTranspose2d;
import tessera.kernels.conv.ConvTransposeSpec;
import tessera.kernels.eltwise.Activations;
import tessera.kernels.eltwise.Binary;
import tessera.kernels.eltwise.ChannelAffine;
import tessera.kernels.gemm.Gemm;
import tessera.kernels.gemm.GemmEpilogue;
import tessera.kernels.gemm.PackedA;
import tessera.kernels.norm.LocalResponseNorm;
import tessera.kernels.pool.Pool2d;
import tessera.kernels.pool.PoolSpec;
import tessera.kernels.reduce.Reductions;
import tessera.kernels.reduce.Softmax;
import tessera.memory.DType;
import tessera.memory.Shapes;
import tessera.memory.Tensor;
import tessera.onnx.OnnxFormatException;
import tessera.onnx.OnnxNode;
import tessera.onnx.OpArgs;

/** Shape inference and kernel binding for each supported operator (one case per op type), from the node's typed arguments. */
final class OpPlans {
    private OpPlans() {}

    static OnnxFormatException bad(OnnxNode n, String msg) { return new OnnxFormatException(n.describe() + ": " + msg); }

    private static String out(OnnxNode n) { return n.outputs().get(0); }

    static void requireF32(Planner p, OnnxNode n, int k) {
        var v = p.val(p.in(n, k));
        if (v.dtype != DType.F32) throw bad(n, "input " + k + " ('" + n.input(k) + "') is " + v.dtype + ", expected float32");
    }

    private static void requireRank(Planner p, OnnxNode n, int k, int rank) {
        int[] s = p.shape(n, k);
        if (s.length != rank) throw bad(n, "input " + k + " ('" + n.input(k) + "') has shape " + Planner.str(s) + ", expected rank " + rank);
    }

    static void plan(Planner p, OnnxNode n) {
        switch (n.opType()) {
            case "Identity" -> p.alias(out(n), p.in(n, 0), p.shape(n, 0));
            case "Dropout" -> {
                p.alias(out(n), p.in(n, 0), p.shape(n, 0));
                dropoutMask(p, n);
            }
            case "Cast" -> cast(p, n);
            case "Flatten" -> {
                int[] s = p.shape(n, 0);
                long axis = n.args(OpArgs.Axis.class).axis();
                int ax = (int) (axis < 0 ? axis + s.length : axis);
                if (ax < 0 || ax > s.length) throw bad(n, "axis " + axis + " is out of range for shape " + Planner.str(s));
                p.alias(out(n), p.in(n, 0), new int[] {(int) ShapeMath.prod(s, 0, ax), (int) ShapeMath.prod(s, ax, s.length)});
            }
            case "Reshape" -> p.alias(out(n), p.in(n, 0), ShapeMath.reshape(p.shape(n, 0), p.cval(n, 1).toLongs(), n.args(OpArgs.Reshape.class).allowZero()));
            case "Squeeze" -> p.alias(out(n), p.in(n, 0), ShapeMath.squeeze(p.shape(n, 0), n.hasInput(1) ? p.cval(n, 1).toLongs() : null));
            case "Unsqueeze" -> p.alias(out(n), p.in(n, 0), ShapeMath.unsqueeze(p.shape(n, 0), p.cval(n, 1).toLongs()));
            case "Conv" -> {
                if (p.shape(n, 0).length == 5) VolumePlans.conv(p, n);
                else conv(p, n);
            }
            case "ConvTranspose" -> {
                if (p.shape(n, 0).length == 5) VolumePlans.convTranspose(p, n);
                else convTranspose(p, n);
            }
            case "MaxPool", "AveragePool", "LpPool" -> {
                if (p.shape(n, 0).length == 5) VolumePlans.pool(p, n);
                else pool(p, n);
            }
            case "GlobalAveragePool", "GlobalMaxPool" -> {
                requireRank(p, n, 0, 4);
                requireF32(p, n, 0);
                int[] s = p.shape(n, 0);
                int x = p.in(n, 0), y = p.dynamic(out(n), new int[] {s[0], s[1], 1, 1}, DType.F32);
                boolean avg = n.opType().equals("GlobalAveragePool");
                p.step(n.name(), new int[] {x}, new int[] {y}, v -> {
                    Tensor tx = v[x], ty = v[y];
                    return avg ? () -> Pool2d.globalAvg(tx, ty) : () -> Pool2d.globalMax(tx, ty, null);
                });
            }
            case "MaxUnpool" -> maxUnpool(p, n);
            case "BatchNormalization" -> batchNorm(p, n);
            case "LRN" -> {
                requireF32(p, n, 0);
                int x = p.in(n, 0), y = p.dynamic(out(n), p.shape(n, 0), DType.F32);
                OpArgs.Lrn a = n.args(OpArgs.Lrn.class);
                p.step(n.name(), new int[] {x}, new int[] {y}, v -> {
                    Tensor tx = v[x], ty = v[y];
                    return () -> LocalResponseNorm.forward(tx, a.size(), a.alpha(), a.beta(), a.bias(), ty);
                });
            }
            case "Relu", "LeakyRelu", "Elu", "Sigmoid", "Tanh", "Softplus", "Mish", "Selu", "HardSigmoid", "HardSwish" ->
                    act(p, n, n.args(OpArgs.Act.class).fn());
            case "Clip" -> {
                if (p.val(p.in(n, 0)).dtype != DType.F32) {
                    for (int k = 1; k <= 2; k++) if (n.hasInput(k)) p.cval(n, k); // constant bounds, as for float32
                    typedClip(p, n);
                    return;
                }
                // bounds are inputs 1 and 2 at every opset (OpsetNormalizer); computed bounds are not supported
                float lo = n.hasInput(1) ? (float) p.cval(n, 1).data()[0] : Float.NEGATIVE_INFINITY;
                float hi = n.hasInput(2) ? (float) p.cval(n, 2).data()[0] : Float.POSITIVE_INFINITY;
                if (Float.isNaN(lo) || Float.isNaN(hi) || lo > hi) throw bad(n, "min " + lo + " > max " + hi + " (or NaN)");
                act(p, n, lo == 0f && hi == Float.POSITIVE_INFINITY ? ActivationFn.RELU : ActivationFn.clip(lo, hi));
            }
            case "PRelu" -> {
                requireF32(p, n, 0);
                Tensor slope = p.constTensor(n, 1);
                int[] s = p.shape(n, 0);
                if (slope == null) throw bad(n, "slope input must be a constant");
                int x = p.in(n, 0), y = p.dynamic(out(n), s, DType.F32);
                if (preluPerChannel(n, s, slope.shape())) {
                    Tensor sl = slope.reshape((int) slope.numel());
                    p.step(n.name(), new int[] {x}, new int[] {y}, v -> {
                        Tensor tx = v[x], ty = v[y];
                        return () -> Activations.preluForward(tx, sl, ty);
                    });
                } else {
                    Tensor sl = slope.dtype() == DType.F32 ? slope : null;
                    if (sl == null) throw bad(n, "slope is " + slope.dtype() + ", expected float32");
                    p.step(n.name(), new int[] {x}, new int[] {y}, v -> new DataOps.Broadcast(tessera.onnx.Elementwise.PRELU,
                            new Tensor[] {v[x], sl.expand(s)}, v[y]));
                }
            }
            case "Softmax", "LogSoftmax" -> softmax(p, n);
            case "Gemm" -> gemm(p, n);
            case "MatMul" -> matmul(p, n);
            case "Add", "Sub", "Mul", "Div", "Sum", "Pow", "Min", "Max", "Equal", "Greater", "Less", "Neg", "Abs", "Sign", "Sqrt", "Exp",
                    "Log", "Reciprocal", "Erf", "Ceil", "Floor", "Softsign" -> EltwisePlans.plan(p, n);
            case "Where" -> EltwisePlans.where(p, n);
            case "Concat" -> concat(p, n);
            case "Transpose" -> {
                int[] s = p.shape(n, 0);
                int[] perm = n.args(OpArgs.Transpose.class).perm(s.length);
                int[] os = new int[s.length];
                for (int i = 0; i < s.length; i++) os[i] = s[ShapeMath.axis(perm[i], s.length, "Transpose")];
                int x = p.in(n, 0), y = p.dynamic(out(n), os, p.val(x).dtype);
                int[] pm = perm;
                p.step(n.name(), new int[] {x}, new int[] {y}, v -> new DataOps.StridedCopy(v[x].permute(pm), v[y]));
            }
            case "Gather" -> gather(p, n);
            case "Resize" -> resize(p, n);
            case "Slice" -> slice(p, n);
            case "Pad" -> pad(p, n);
            case "ReduceMean", "ReduceSum", "ReduceMax" -> reduce(p, n);
            case "ConstantOfShape" -> throw bad(n, "shape input must be a constant (it is computed at run time)");
            default -> throw bad(n, "is not supported");
        }
    }

    // ------------------------------------------------------------------ elementwise

    private static void act(Planner p, OnnxNode n, ActivationFn a) {
        requireF32(p, n, 0);
        int x = p.in(n, 0), y = p.dynamic(out(n), p.shape(n, 0), DType.F32);
        p.step(n.name(), new int[] {x}, new int[] {y}, v -> {
            Tensor tx = v[x], ty = v[y];
            return () -> Activations.forward(a, tx, ty);
        });
    }

    /** The residual addition of a Conv whose residual broadcasts (Add kernel). */
    static int add(Planner p, OnnxNode n, int a, int b, String outName) {
        var va = p.val(a);
        var vb = p.val(b);
        int[] os = Shapes.broadcast(va.shape, vb.shape);
        int y = p.dynamic(outName, os, DType.F32);
        p.step(n.name(), new int[] {a, b}, new int[] {y}, v -> {
            Tensor ta = v[a], tb = v[b], ty = v[y];
            return () -> Binary.apply(Binary.Op.ADD, ta, tb, ty);
        });
        return y;
    }

    private static void cast(Planner p, OnnxNode n) {
        var x = p.val(p.in(n, 0));
        OpArgs.Cast c = n.args(OpArgs.Cast.class);
        if (c.to() == x.dtype && !c.bool()) {
            p.alias(out(n), p.in(n, 0), x.shape);
            return;
        }
        int xi = p.in(n, 0), y = p.dynamic(out(n), x.shape, c.to());
        p.step(n.name(), new int[] {xi}, new int[] {y}, v -> new TypedKernels.Convert(v[xi], v[y], c.bool()));
    }

    /** Clip of a tensor of another element type than float32: bounds converted to its type, applied in it. */
    private static void typedClip(Planner p, OnnxNode n) {
        var xv = p.val(p.in(n, 0));
        for (int k = 1; k <= 2; k++) {
            if (n.hasInput(k) && p.val(p.in(n, k)).dtype != xv.dtype) {
                throw bad(n, "bound input " + k + " ('" + n.input(k) + "') is " + p.val(p.in(n, k)).dtype + ", expected " + xv.dtype + " like the input");
            }
        }
        int x = p.in(n, 0), y = p.dynamic(out(n), xv.shape, xv.dtype);
        int[] reads = {x};
        p.step(n.name(), reads, new int[] {y}, v -> {
            Tensor cur = v[x];
            Runnable lo = n.hasInput(1) ? new TypedKernels.Eltwise(tessera.onnx.Elementwise.MAX,
                    new Tensor[] {cur, p.constTensor(n, 1).reshape().expand(xv.shape)}, v[y]) : null;
            Runnable hi = n.hasInput(2) ? new TypedKernels.Eltwise(tessera.onnx.Elementwise.MIN,
                    new Tensor[] {lo == null ? cur : v[y], p.constTensor(n, 2).reshape().expand(xv.shape)}, v[y]) : null;
            Runnable copy = lo == null && hi == null ? new DataOps.StridedCopy(cur, v[y]) : null;
            return () -> {
                if (copy != null) copy.run();
                if (lo != null) lo.run();
                if (hi != null) hi.run();
            };
        });
    }

    // ------------------------------------------------------------------ convolution

    private static void conv(Planner p, OnnxNode n) {
        requireRank(p, n, 0, 4);
        requireF32(p, n, 0);
        int[] xs = p.shape(n, 0);
        int[] ws = p.shape(n, 1);
        if (ws.length != 4) throw bad(n, "weight '" + n.input(1) + "' has shape " + Planner.str(ws) + ", expected [K, C/group, kH, kW]");
        OpArgs.Conv a = n.args(OpArgs.Conv.class);
        int group = a.group();
        OpArgs.Window win = a.window().forRank(2);
        int[] k = win.kernel() == null ? new int[] {ws[2], ws[3]} : win.kernel();
        if (k[0] != ws[2] || k[1] != ws[3]) throw bad(n, "kernel_shape " + Arrays.toString(k) + " differs from the weight shape " + Planner.str(ws));
        if (ws[1] * group != xs[1]) {
            throw bad(n, "input has " + xs[1] + " channels but weight " + Planner.str(ws) + " with group=" + group + " expects " + ws[1] * group);
        }
        int[] st = win.strides(), dl = win.dilations();
        int[] pads = win.pads(xs[2], xs[3], k[0], k[1]);
        ConvSpec spec = new ConvSpec(xs[0], xs[1], xs[2], xs[3], ws[0], k[0], k[1], st[0], st[1], pads[0], pads[1], pads[2], pads[3],
                dl[0], dl[1], group);
        int[] ys = {xs[0], ws[0], spec.outH(), spec.outW()};
        Tensor bias = null;
        if (n.hasInput(2)) {
            bias = p.constTensor(n, 2);
            if (bias == null) throw bad(n, "bias must be a constant");
            if (bias.numel() != ws[0]) throw bad(n, "bias has " + bias.numel() + " elements, expected " + ws[0]);
            bias = bias.reshape(ws[0]);
        }
        ActivationFn act = a.fused().fn();
        int x = p.in(n, 0);
        int res = n.hasInput(3) ? p.in(n, 3) : -1;
        Tensor w = p.constTensor(n, 1);
        if (w == null || w.dtype() != DType.F32) throw bad(n, "weight '" + n.input(1) + "' must be a float32 constant");
        boolean fusedResidual = res >= 0 && Arrays.equals(p.val(res).shape, ys) && p.val(res).dtype == DType.F32;
        String key = n.name() + "@" + xs[1] + "x" + xs[2] + "x" + xs[3];
        Tensor b = bias;
        ConvPlan plan = (ConvPlan) p.model().plans.computeIfAbsent(key,
                kk -> ConvPlan.create(spec, p.model().algorithm, w, b, fusedResidual || res < 0 ? act : ActivationFn.IDENTITY));
        if (res < 0 || fusedResidual) {
            int y = p.dynamic(out(n), ys, DType.F32);
            int[] reads = res < 0 ? new int[] {x} : new int[] {x, res};
            p.step(n.name(), reads, new int[] {y}, v -> {
                Tensor tx = v[x], tr = res < 0 ? null : v[res], ty = v[y];
                return () -> plan.execute(tx, tr, ty);
            });
            p.algorithm(plan.describe());
        } else {
            // residual that broadcasts: convolution, then add, then activation
            int t = p.dynamic(out(n) + "#conv", ys, DType.F32);
            p.step(n.name(), new int[] {x}, new int[] {t}, v -> {
                Tensor tx = v[x], tt = v[t];
                return () -> plan.execute(tx, null, tt);
            });
            p.algorithm(plan.describe());
            int sum = add(p, n, t, res, act.isIdentity() ? out(n) : out(n) + "#sum");
            if (!act.isIdentity()) {
                int y = p.dynamic(out(n), p.val(sum).shape, DType.F32);
                p.step(n.name(), new int[] {sum}, new int[] {y}, v -> {
                    Tensor ts = v[sum], ty = v[y];
                    return () -> Activations.forward(act, ts, ty);
                });
            }
        }
    }

    private static void convTranspose(Planner p, OnnxNode n) {
        requireRank(p, n, 0, 4);
        requireF32(p, n, 0);
        int[] xs = p.shape(n, 0);
        Tensor w = p.constTensor(n, 1);
        if (w == null || w.rank() != 4) throw bad(n, "weight must be a constant [Cin, Cout/group, kH, kW]");
        int[] ws = w.shape();
        OpArgs.ConvTranspose a = n.args(OpArgs.ConvTranspose.class);
        int group = a.group();
        if (ws[0] != xs[1]) throw bad(n, "input has " + xs[1] + " channels, weight " + Planner.str(ws) + " expects " + ws[0]);
        int[] st = a.window().forRank(2).strides(), dl = a.window().forRank(2).dilations();
        OpArgs.ConvTranspose.Resolved r = a.resolve(xs[2], xs[3], ws[2], ws[3]);
        int[] pads = r.pads(), op = r.outputPadding();
        ConvTransposeSpec spec = new ConvTransposeSpec(xs[0], xs[1], xs[2], xs[3], ws[1] * group, ws[2], ws[3], st[0], st[1],
                pads[0], pads[1], pads[2], pads[3], op[0], op[1], dl[0], dl[1], group);
        Tensor bias = n.hasInput(2) ? p.constTensor(n, 2) : null;
        if (n.hasInput(2) && bias == null) throw bad(n, "bias must be a constant");
        Tensor b = bias == null ? null : bias.reshape((int) bias.numel());
        int x = p.in(n, 0), y = p.dynamic(out(n), new int[] {xs[0], ws[1] * group, spec.outH(), spec.outW()}, DType.F32);
        p.step(n.name(), new int[] {x}, new int[] {y}, v -> {
            Tensor tx = v[x], ty = v[y];
            return () -> ConvTranspose2d.forward(spec, tx, w, b, ty);
        });
    }

    // ------------------------------------------------------------------ pooling and normalization

    private static void pool(Planner p, OnnxNode n) {
        requireRank(p, n, 0, 4);
        DType dt = p.val(p.in(n, 0)).dtype;
        OpArgs.Pool a = n.args(OpArgs.Pool.class);
        if (dt != DType.F32 && n.opType().equals("MaxPool") && !a.withIndices() && TypedKernels.exactInFloat32(dt)) {
            typedMaxPool(p, n, a, dt);
            return;
        }
        requireF32(p, n, 0);
        int[] xs = p.shape(n, 0);
        PoolSpec spec = a.spec(xs[2], xs[3]);
        int[] ys = {xs[0], xs[1], spec.outH(xs[2]), spec.outW(xs[3])};
        int x = p.in(n, 0), y = p.dynamic(out(n), ys, DType.F32);
        if (a.withIndices()) {
            int idx = p.dynamic(n.outputs().get(1), ys, DType.I64);
            long plane = (long) xs[2] * xs[3];
            boolean cm = a.columnMajor();
            p.step(n.name(), new int[] {x}, new int[] {y, idx}, v -> {
                Tensor tx = v[x], ty = v[y], ti = v[idx];
                return () -> {
                    Pool2d.forward(spec, tx, ty, ti);
                    DataOps.planeToFlatIndices(ti, plane, cm ? xs[2] : 0, xs[3]);
                };
            });
        } else {
            p.step(n.name(), new int[] {x}, new int[] {y}, v -> {
                Tensor tx = v[x], ty = v[y];
                return () -> Pool2d.forward(spec, tx, ty, null);
            });
        }
    }

    /**
     * MaxPool of a type whose values are all exact float32s (int8/16, uint8/16, float16, bfloat16): converted to
     * float32, pooled by the float32 kernel (a maximum selects a value, so nothing rounds), converted back.
     */
    private static void typedMaxPool(Planner p, OnnxNode n, OpArgs.Pool a, DType dt) {
        int[] xs = p.shape(n, 0);
        PoolSpec spec = a.spec(xs[2], xs[3]);
        int[] ys = {xs[0], xs[1], spec.outH(xs[2]), spec.outW(xs[3])};
        int x = p.in(n, 0);
        int xf = p.dynamic(out(n) + "#f32_in", xs, DType.F32), yf = p.dynamic(out(n) + "#f32_out", ys, DType.F32);
        int y = p.dynamic(out(n), ys, dt);
        p.step(n.name(), new int[] {x}, new int[] {xf, yf, y}, v -> {
            Runnable in = new TypedKernels.Convert(v[x], v[xf], false), back = new TypedKernels.Convert(v[yf], v[y], false);
            Tensor tx = v[xf], ty = v[yf];
            return () -> {
                in.run();
                Pool2d.forward(spec, tx, ty, null);
                back.run();
            };
        });
    }

    /**
     * True when PRelu's slope is one value or one per channel ([C], [C, 1, ...] or [1, C, 1, ...] against x of
     * shape [N, C, ...] as numpy broadcasting aligns it), the per-channel kernel's case; false for any other slope
     * that broadcasts to x; an error (naming the node and both shapes) when it does not broadcast.
     */
    static boolean preluPerChannel(OnnxNode n, int[] xs, int[] ss) {
        if (n.has(tessera.onnx.OpsetNormalizer.LEGACY_AXIS) && ss.length == 1 && (ss[0] == 1 || (xs.length >= 2 && ss[0] == xs[1]))) {
            return true; // opset < 7: a 1-D slope runs along the channels
        }
        int[] b;
        try {
            b = Shapes.broadcast(xs, ss);
        } catch (IllegalArgumentException e) {
            b = null;
        }
        if (b == null || !Arrays.equals(b, xs)) {
            throw bad(n, "slope of shape " + Planner.str(ss) + " does not broadcast to the input shape " + Planner.str(xs));
        }
        long count = ShapeMath.numel(ss);
        if (count == 1) return true;
        if (xs.length < 2 || count != xs[1]) return false;
        int off = xs.length - ss.length; // slope dim i aligns with x dim i + off
        for (int i = 0; i < ss.length; i++) if (ss[i] != 1 && i + off != 1) return false;
        return true;
    }

    /** Resize geometry: output shape and, per H and W, the source indices and weights of each output position. */
    record ResizeTables(int[] outShape, int taps, int[] ih, double[] wh, int[] iw, double[] ww, double extrapolation) {
        /** Output (pl, oh, ow) from plane-major x of [.., inH, inW] (flat array accessor {@code at}). */
        double value(java.util.function.IntToDoubleFunction at, int base, int inW, int oh, int ow) {
            if (ih[taps * oh] < 0 || iw[taps * ow] < 0) return extrapolation;
            double s = 0;
            for (int a = 0; a < taps; a++) {
                double row = 0;
                int r = base + ih[taps * oh + a] * inW;
                for (int b = 0; b < taps; b++) row += ww[taps * ow + b] * at.applyAsDouble(r + iw[taps * ow + b]);
                s += wh[taps * oh + a] * row;
            }
            return s;
        }
    }

    static ResizeTables resizeTables(OnnxNode n, int[] xs, CVal roi, CVal scales, CVal sizes) {
        if (xs.length != 4) throw bad(n, "input of shape " + Planner.str(xs) + ": only 4-D [N, C, H, W] inputs are supported");
        double[] sc = new double[4];
        int[] os = new int[4];
        if (sizes != null && sizes.data().length > 0) {
            long[] sz = sizes.toLongs();
            if (sz.length != 4) throw bad(n, "input 'sizes' = " + Arrays.toString(sz) + " must have 4 values");
            for (int d = 0; d < 4; d++) {
                os[d] = (int) sz[d];
                sc[d] = (double) sz[d] / xs[d];
            }
        } else if (scales != null && scales.data().length > 0) {
            double[] s = scales.data();
            if (s.length != 4) throw bad(n, "input 'scales' = " + Arrays.toString(s) + " must have 4 values");
            for (int d = 0; d < 4; d++) {
                sc[d] = (float) s[d];
                os[d] = (int) Math.floor(xs[d] * (float) s[d]);
            }
        } else {
            throw bad(n, "needs a non-empty 'scales' or 'sizes' input");
        }
        if (os[0] != xs[0] || os[1] != xs[1]) {
            throw bad(n, "resizing N or C (input " + Planner.str(xs) + " to " + Planner.str(os) + ") is not supported; only H and W");
        }
        if (os[2] < 1 || os[3] < 1) throw bad(n, "output shape " + Planner.str(os) + " is empty");
        OpArgs.Resize a = n.args(OpArgs.Resize.class);
        double[] r = {0, 0, 0, 0, 1, 1, 1, 1};
        if (a.coordinates().equals("tf_crop_and_resize")) {
            if (roi == null || roi.data().length != 8) throw bad(n, "coordinate_transformation_mode tf_crop_and_resize needs an 'roi' input of 8 values");
            r = roi.data();
        }
        int k = a.taps();
        int[] ih = new int[k * os[2]], iw = new int[k * os[3]];
        double[] wh = new double[k * os[2]], ww = new double[k * os[3]];
        a.table(xs[2], os[2], sc[2], r[2], r[6], ih, wh);
        a.table(xs[3], os[3], sc[3], r[3], r[7], iw, ww);
        return new ResizeTables(os, k, ih, wh, iw, ww, a.extrapolation());
    }

    private static void resize(Planner p, OnnxNode n) {
        requireF32(p, n, 0);
        int[] xs = p.shape(n, 0);
        ResizeTables t = resizeTables(n, xs, n.hasInput(1) ? p.cval(n, 1) : null, n.hasInput(2) ? p.cval(n, 2) : null,
                n.hasInput(3) ? p.cval(n, 3) : null);
        int x = p.in(n, 0), y = p.dynamic(out(n), t.outShape(), DType.F32);
        p.step(n.name(), new int[] {x}, new int[] {y}, v -> {
            Tensor tx = v[x], ty = v[y];
            if (!tx.isContiguous()) throw bad(n, "input '" + n.input(0) + "' must be contiguous");
            return () -> DataOps.resize(tx, t, ty);
        });
        p.algorithm(n.args(OpArgs.Resize.class).mode());
    }

    /** Dropout's optional mask output: inference keeps every element, so it is a constant all-true bool tensor. */
    static void dropoutMask(Planner p, OnnxNode n) {
        if (n.outputs().size() < 2 || n.outputs().get(1).isEmpty()) return;
        Tensor mask = p.arena().allocate(DType.U8, p.shape(n, 0));
        mask.fill(1);
        p.constant(n.outputs().get(1), mask);
    }

    /**
     * MaxUnpool's output shape: from kernel/strides/pads, or the output_shape input when it equals that. A different
     * output_shape is refused: ONNX's backend test reads the indices as positions in the default-size output, ONNX
     * Runtime and PyTorch as flat positions in the given output (onnx/onnx#2398), and guessing would be silently wrong
     * for one of them.
     */
    static int[] maxUnpoolShape(OnnxNode n, int[] xs, long[] os) {
        int[] hw = n.args(OpArgs.MaxUnpool.class).outputSize(xs[2], xs[3]);
        int[] ys = {xs[0], xs[1], hw[0], hw[1]};
        if (os == null) return ys;
        if (os.length != 4) throw bad(n, "input 'output_shape' = " + Arrays.toString(os) + " must have 4 values");
        for (int d = 0; d < 4; d++) {
            if (os[d] != ys[d]) {
                throw bad(n, "input 'output_shape' = " + Arrays.toString(os) + " differs from the shape " + Planner.str(ys) + " that kernel_shape, "
                        + "strides and pads give for input " + Planner.str(xs) + "; ONNX's reference and ONNX Runtime/PyTorch place the indices "
                        + "differently then (onnx/onnx#2398), so Tessera refuses rather than guess");
            }
        }
        return ys;
    }

    private static void maxUnpool(Planner p, OnnxNode n) {
        requireRank(p, n, 0, 4);
        int[] xs = p.shape(n, 0);
        int[] ys = maxUnpoolShape(n, xs, n.hasInput(2) ? p.cval(n, 2).toLongs() : null);
        if (p.val(p.in(n, 1)).dtype != DType.I64) throw bad(n, "indices must be int64");
        int x = p.in(n, 0), ix = p.in(n, 1), y = p.dynamic(out(n), ys, DType.F32);
        String name = n.describe();
        p.step(n.name(), new int[] {x, ix}, new int[] {y}, v -> {
            Tensor tx = v[x], ti = v[ix], ty = v[y];
            return () -> DataOps.maxUnpool(tx, ti, ty, name);
        });
    }

    private static void batchNorm(Planner p, OnnxNode n) {
        requireF32(p, n, 0);
        int[] xs = p.shape(n, 0);
        if (xs.length < 2) throw bad(n, "input shape " + Planner.str(xs) + " needs rank >= 2");
        int c = xs[1];
        double[][] prm = new double[4][];
        for (int k = 0; k < 4; k++) {
            Tensor t = p.constTensor(n, k + 1);
            if (t == null) throw bad(n, "parameter input " + (k + 1) + " must be a constant");
            if (t.numel() != c) throw bad(n, "parameter '" + n.input(k + 1) + "' has " + t.numel() + " elements, expected C = " + c);
            prm[k] = t.toDoubleArray();
        }
        double eps = n.args(OpArgs.BatchNorm.class).epsilon();
        Tensor scale = p.arena().allocate(DType.F32, c), shift = p.arena().allocate(DType.F32, c);
        for (int i = 0; i < c; i++) {
            double s = prm[0][i] / Math.sqrt(prm[3][i] + eps);
            scale.set(s, i);
            shift.set(prm[1][i] - prm[2][i] * s, i);
        }
        int x = p.in(n, 0), y = p.dynamic(out(n), xs, DType.F32);
        p.step(n.name(), new int[] {x}, new int[] {y}, v -> {
            Tensor tx = v[x], ty = v[y];
            return () -> ChannelAffine.forward(tx, scale, shift, ty);
        });
    }

    private static void softmax(Planner p, OnnxNode n) {
        requireF32(p, n, 0);
        int[] xs = p.shape(n, 0);
        OpArgs.Softmax a = n.args(OpArgs.Softmax.class);
        boolean log = a.log();
        int x = p.in(n, 0), y = p.dynamic(out(n), xs, DType.F32);
        int ax = ShapeMath.axis(a.axis(), xs.length, n.describe());
        p.step(n.name(), new int[] {x}, new int[] {y}, v -> {
            Tensor tx = v[x], ty = v[y];
            return log ? () -> Softmax.logForward(tx, ax, ty) : () -> Softmax.forward(tx, ax, ty);
        });
    }

    // ------------------------------------------------------------------ dense

    private static void gemm(Planner p, OnnxNode n) {
        requireF32(p, n, 0);
        requireF32(p, n, 1);
        int[] as = p.shape(n, 0), bs = p.shape(n, 1);
        if (as.length != 2 || bs.length != 2) throw bad(n, "inputs must be 2-D, got " + Planner.str(as) + " and " + Planner.str(bs));
        OpArgs.Gemm ga = n.args(OpArgs.Gemm.class);
        boolean ta = ga.transA(), tb = ga.transB();
        int m = ta ? as[1] : as[0], k = ta ? as[0] : as[1], nn = tb ? bs[0] : bs[1], kb = tb ? bs[1] : bs[0];
        if (k != kb) throw bad(n, "inner dimensions differ: A " + Planner.str(as) + (ta ? "ᵀ" : "") + " and B " + Planner.str(bs) + (tb ? "ᵀ" : ""));
        float alpha = ga.alpha(), beta = ga.beta();
        ActivationFn act = ga.fused().fn();
        int a = p.in(n, 0), b = p.in(n, 1), y = p.dynamic(out(n), new int[] {m, nn}, DType.F32);
        int lda = as[1], ldb = bs[1];
        Tensor colBias = null;
        int c = -1;
        if (n.hasInput(2) && beta != 0f) {
            c = p.in(n, 2);
            var vc = p.val(c);
            if (!broadcastsTo(vc.shape, m, nn)) {
                throw bad(n, "C of shape " + Planner.str(vc.shape) + " does not broadcast to [" + m + ", " + nn + "]");
            }
            if (vc.constant != null && vc.constant.numel() == nn && (vc.shape.length == 1 || vc.shape[0] == 1)) {
                colBias = p.arena().allocate(DType.F32, nn);
                double[] d = vc.constant.toDoubleArray();
                for (int j = 0; j < nn; j++) colBias.set(d[j] * beta, j);
                c = -1;
            }
        }
        Tensor cb = colBias;
        int cc = c;
        Tensor wConst = p.constTensor(n, 1);
        if (wConst != null && !ta && cc < 0 && m <= GEMV_MAX_ROWS && wConst.dtype() == DType.F32) {
            gemv(p, n, a, y, m, nn, k, alpha, tb, wConst, cb, act, lda);
            return;
        }
        if (wConst != null && !ta && cc < 0 && wConst.dtype() == DType.F32 && wConst.isContiguous()) {
            prepackedGemm(p, n, a, y, m, nn, k, alpha, tb, wConst, cb, act, lda);
            return;
        }
        GemmEpilogue ep = cb != null ? GemmEpilogue.colBias(cb.segment(), 0, act) : GemmEpilogue.activation(act);
        int[] reads = cc >= 0 ? new int[] {a, b, cc} : new int[] {a, b};
        p.step(n.name(), reads, new int[] {y}, v -> {
            Tensor tA = v[a], tB = v[b], tY = v[y];
            Runnable fillC = cc >= 0 ? new DataOps.StridedCopy(v[cc].expand(m, nn), tY) : null;
            float bt = cc >= 0 ? beta : 0f;
            return () -> {
                if (fillC != null) fillC.run();
                Gemm.sgemm(ta, tb, m, nn, k, alpha, tA.segment(), tA.offset(), lda, tB.segment(), tB.offset(), ldb, bt,
                        tY.segment(), tY.offset(), nn, ep);
            };
        });
    }

    /**
     * Y = act(alpha·A·op(W) + bias) with constant weights W packed once at plan time: computed as
     * Yᵀ [N×M] = op(W)ᵀ · Aᵀ (the packed operand of the GEMM is the left one; the bias becomes a row bias) into a
     * planned scratch value, then copied transposed into Y — instead of packing W on every call.
     */
    private static void prepackedGemm(Planner p, OnnxNode n, int a, int y, int m, int nn, int k, float alpha, boolean tb,
                                      Tensor w, Tensor bias, ActivationFn act, int lda) {
        // op(W)ᵀ is [nn×k]: W itself when transB (W stored nn×k), else W stored k×nn read transposed
        PackedA packed = Gemm.packA(!tb, nn, k, w.segment(), w.offset(), w.dim(1));
        GemmEpilogue ep = bias != null ? GemmEpilogue.rowBias(bias.segment(), bias.offset(), act) : GemmEpilogue.activation(act);
        int t = p.dynamic(out(n) + "#transposed", new int[] {nn, m}, DType.F32);
        p.step(n.name(), new int[] {a}, new int[] {t, y}, v -> {
            Tensor tA = v[a], tT = v[t];
            Runnable toY = new DataOps.StridedCopy(tT.transpose(0, 1), v[y]);
            return () -> {
                Gemm.sgemm(packed, true, m, alpha, tA.segment(), tA.offset(), lda, 0f, tT.segment(), tT.offset(), m, ep);
                toY.run();
            };
        });
        p.algorithm("prepacked gemm");
    }

    /** Up to this many rows of A, a Gemm with constant weights runs as one matrix-vector product per row. */
    static final int GEMV_MAX_ROWS = 4;

    /**
     * Y[r] = act(alpha·W·A[r] + bias) per row r of A with W = op(B) transposed to [N×K] row-major once at plan time
     * (a fully connected layer at small batch: W streamed unpacked, no per-call packing).
     */
    private static void gemv(Planner p, OnnxNode n, int a, int y, int m, int nn, int k, float alpha, boolean tb,
                             Tensor b, Tensor bias, ActivationFn act, int lda) {
        Tensor w;
        if (tb && b.isContiguous()) {
            w = b;
        } else {
            w = p.arena().allocate(DType.F32, nn, k);
            Tensor src = tb ? b : b.transpose(0, 1);   // [nn, k] view of B (transB) or Bᵀ
            w.copyFrom(src);
        }
        Tensor wt = w;
        p.step(n.name(), new int[] {a}, new int[] {y}, v -> {
            Tensor tA = v[a], tY = v[y];
            return () -> {
                for (int r = 0; r < m; r++) {
                    Gemm.sgemv(nn, k, alpha, wt.segment(), wt.offset(), k, tA.segment(), tA.offset() + (long) r * lda,
                            bias == null ? null : bias.segment(), 0, act, tY.segment(), tY.offset() + (long) r * nn);
                }
            };
        });
        p.algorithm("gemv");
    }

    private static boolean broadcastsTo(int[] c, int m, int n) {
        if (c.length > 2) return false;
        try {
            int[] b = Shapes.broadcast(c, new int[] {m, n});
            return b[0] == m && b[1] == n;
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    private static void matmul(Planner p, OnnxNode n) {
        requireF32(p, n, 0);
        requireF32(p, n, 1);
        int[] as = p.shape(n, 0), bs = p.shape(n, 1);
        if (as.length < 2 || bs.length < 2) throw bad(n, "1-D operands are not supported: " + Planner.str(as) + " × " + Planner.str(bs));
        int m = as[as.length - 2], k = as[as.length - 1], kb = bs[bs.length - 2], nn = bs[bs.length - 1];
        if (k != kb) throw bad(n, "inner dimensions differ: " + Planner.str(as) + " × " + Planner.str(bs));
        int a = p.in(n, 0), b = p.in(n, 1);
        if (bs.length == 2) {
            int[] ys = as.clone();
            ys[ys.length - 1] = nn;
            int rows = (int) (ShapeMath.numel(as) / k);
            int y = p.dynamic(out(n), ys, DType.F32);
            p.step(n.name(), new int[] {a, b}, new int[] {y}, v -> {
                Tensor tA = v[a], tB = v[b], tY = v[y];
                return () -> Gemm.sgemm(false, false, rows, nn, k, 1f, tA.segment(), tA.offset(), k, tB.segment(), tB.offset(), nn, 0f,
                        tY.segment(), tY.offset(), nn, GemmEpilogue.NONE);
            });
            return;
        }
        if (as.length != bs.length || !Arrays.equals(Arrays.copyOf(as, as.length - 2), Arrays.copyOf(bs, bs.length - 2))) {
            throw bad(n, "batched operands must have equal batch dimensions: " + Planner.str(as) + " × " + Planner.str(bs));
        }
        int batches = (int) ShapeMath.prod(as, 0, as.length - 2);
        int[] ys = as.clone();
        ys[ys.length - 1] = nn;
        int y = p.dynamic(out(n), ys, DType.F32);
        p.step(n.name(), new int[] {a, b}, new int[] {y}, v -> {
            Tensor tA = v[a], tB = v[b], tY = v[y];
            return () -> {
                for (int i = 0; i < batches; i++) {
                    Gemm.sgemm(false, false, m, nn, k, 1f, tA.segment(), tA.offset() + (long) i * m * k, k, tB.segment(),
                            tB.offset() + (long) i * k * nn, nn, 0f, tY.segment(), tY.offset() + (long) i * m * nn, nn, GemmEpilogue.NONE);
                }
            };
        });
    }

    // ------------------------------------------------------------------ data movement

    private static void concat(Planner p, OnnxNode n) {
        int[] first = p.shape(n, 0);
        int ax = ShapeMath.axis(n.args(OpArgs.Axis.class).axis(), first.length, n.describe());
        int[] os = first.clone();
        os[ax] = 0;
        int count = n.inputs().size();
        int[] ins = new int[count];
        DType dt = p.val(p.in(n, 0)).dtype;
        for (int i = 0; i < count; i++) {
            ins[i] = p.in(n, i);
            int[] s = p.val(ins[i]).shape;
            if (s.length != first.length) throw bad(n, "inputs have ranks " + first.length + " and " + s.length);
            for (int d = 0; d < s.length; d++) {
                if (d != ax && s[d] != first[d]) throw bad(n, "input shapes " + Planner.str(first) + " and " + Planner.str(s) + " differ outside axis " + ax);
            }
            if (p.val(ins[i]).dtype != dt) throw bad(n, "inputs have different element types");
            os[ax] += s[ax];
        }
        int y = p.dynamic(out(n), os, dt);
        p.step(n.name(), ins, new int[] {y}, v -> {
            Runnable[] copies = new Runnable[count];
            int at = 0;
            for (int i = 0; i < count; i++) {
                Tensor src = v[ins[i]];
                copies[i] = new DataOps.StridedCopy(src, v[y].narrow(ax, at, src.dim(ax)));
                at += src.dim(ax);
            }
            return () -> {
                for (Runnable r : copies) r.run();
            };
        });
    }

    private static void gather(Planner p, OnnxNode n) {
        int[] xs = p.shape(n, 0);
        int ax = ShapeMath.axis(n.args(OpArgs.Axis.class).axis(), xs.length, n.describe());
        CVal idx = p.cval(n, 1);
        long[] ks = idx.toLongs();
        for (int i = 0; i < ks.length; i++) {
            if (ks[i] < 0) ks[i] += xs[ax];
            if (ks[i] < 0 || ks[i] >= xs[ax]) throw bad(n, "index " + idx.toLongs()[i] + " is out of range for axis " + ax + " of size " + xs[ax]);
        }
        int[] os = new int[xs.length - 1 + idx.rank()];
        System.arraycopy(xs, 0, os, 0, ax);
        System.arraycopy(idx.shape(), 0, os, ax, idx.rank());
        System.arraycopy(xs, ax + 1, os, ax + idx.rank(), xs.length - ax - 1);
        int[] kept = xs.clone();
        kept[ax] = ks.length;
        int x = p.in(n, 0), y = p.dynamic(out(n), os, p.val(p.in(n, 0)).dtype);
        p.step(n.name(), new int[] {x}, new int[] {y}, v -> {
            Tensor yv = v[y].reshape(kept);
            Runnable[] copies = new Runnable[ks.length];
            for (int i = 0; i < ks.length; i++) copies[i] = new DataOps.StridedCopy(v[x].narrow(ax, (int) ks[i], 1), yv.narrow(ax, i, 1));
            return () -> {
                for (Runnable r : copies) r.run();
            };
        });
    }

    private static void slice(Planner p, OnnxNode n) {
        int[] xs = p.shape(n, 0);
        ShapeMath.SliceRange r = ShapeMath.slice(xs, p.cval(n, 1).toLongs(), p.cval(n, 2).toLongs(),
                n.hasInput(3) ? p.cval(n, 3).toLongs() : null, n.hasInput(4) ? p.cval(n, 4).toLongs() : null);
        int[][] s = {r.starts(), r.steps(), r.shape()};
        int x = p.in(n, 0), y = p.dynamic(out(n), s[2], p.val(p.in(n, 0)).dtype);
        p.step(n.name(), new int[] {x}, new int[] {y}, v -> {
            Tensor view = v[x];
            boolean[] reversed = new boolean[xs.length];
            for (int d = 0; d < xs.length; d++) {
                int step = s[1][d], count = s[2][d];
                if (step < 0) {
                    // the same elements in increasing order, read backwards below
                    reversed[d] = count > 1;
                    int lo = count == 0 ? 0 : s[0][d] - (count - 1) * -step;
                    view = view.slice(d, lo, count == 0 ? lo : lo + (count - 1) * -step + 1, -step);
                    continue;
                }
                int start = Math.min(s[0][d], xs[d]);
                int end = Math.min(xs[d], start + (count - 1) * step + 1);
                if (count == 0) end = start;
                view = view.slice(d, start, end, step);
            }
            long[] strides = view.strides();
            long off = 0;
            for (int d = 0; d < xs.length; d++) {
                if (!reversed[d]) continue;
                off += (long) (view.dim(d) - 1) * strides[d];
                strides[d] = -strides[d];
            }
            return new DataOps.StridedCopy(view, off, strides, v[y]);
        });
    }

    private static void pad(Planner p, OnnxNode n) {
        int[] xs = p.shape(n, 0);
        DType dt = p.val(p.in(n, 0)).dtype;
        long[] pads = p.cval(n, 1).toLongs();
        double value = n.hasInput(2) ? p.cval(n, 2).data()[0] : 0;
        if (pads.length != 2 * xs.length) throw bad(n, "pads " + Arrays.toString(pads) + " must have " + 2 * xs.length + " values");
        String mode = n.args(OpArgs.Pad.class).mode();
        int[] before = new int[xs.length], ys = new int[xs.length];
        for (int d = 0; d < xs.length; d++) {
            if (pads[d] < 0 || pads[d + xs.length] < 0) throw bad(n, "negative pads " + Arrays.toString(pads) + " are not supported");
            before[d] = (int) pads[d];
            ys[d] = (int) (xs[d] + pads[d] + pads[d + xs.length]);
            if (mode.equals("reflect") && (pads[d] >= xs[d] || pads[d + xs.length] >= xs[d])) {
                throw bad(n, "reflect pads " + Arrays.toString(pads) + " must be smaller than the input size " + Planner.str(xs));
            }
        }
        int x = p.in(n, 0), y = p.dynamic(out(n), ys, dt);
        boolean constant = mode.equals("constant"), reflect = mode.equals("reflect");
        p.step(n.name(), new int[] {x}, new int[] {y}, v -> {
            Tensor interior = v[y];
            for (int d = 0; d < xs.length; d++) interior = interior.narrow(d, before[d], xs[d]);
            Runnable copy = new DataOps.StridedCopy(v[x], interior);
            Tensor ty = v[y];
            Runnable border = constant ? null : new DataOps.PadBorder(ty, before, xs, reflect);
            return () -> {
                if (constant && dt == DType.F32) DataOps.fill(ty, (float) value);
                else if (constant) TypedKernels.fill(ty, value);
                copy.run();
                if (border != null) border.run();
            };
        });
    }

    private static void reduce(Planner p, OnnxNode n) {
        requireF32(p, n, 0);
        int[] xs = p.shape(n, 0);
        OpArgs.Reduce a = n.args(OpArgs.Reduce.class);
        if (a.noopWithEmptyAxes() && (!n.hasInput(1) || p.cval(n, 1).toLongs().length == 0)) {
            p.alias(out(n), p.in(n, 0), xs);
            return;
        }
        int[] ax = ShapeMath.reduceAxes(n.hasInput(1) ? p.cval(n, 1).toLongs() : null, xs.length, n.describe());
        int[] keep = xs.clone();
        for (int d : ax) keep[d] = 1;
        int x = p.in(n, 0);
        int y = p.dynamic(a.keepdims() ? out(n) : out(n) + "#keepdims", keep, DType.F32);
        OpArgs.Reduction kind = a.kind();
        p.step(n.name(), new int[] {x}, new int[] {y}, v -> {
            Tensor tx = v[x], ty = v[y];
            return switch (kind) {
                case MEAN -> () -> Reductions.mean(tx, ax, ty);
                case SUM -> () -> Reductions.sum(tx, ax, ty);
                case MAX -> () -> Reductions.max(tx, ax, ty);
            };
        });
        if (!a.keepdims()) {
            long[] all = new long[ax.length];
            for (int i = 0; i < ax.length; i++) all[i] = ax[i];
            p.alias(out(n), y, ShapeMath.squeeze(keep, all));
        }
    }

}
