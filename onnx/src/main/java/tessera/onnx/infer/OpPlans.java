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
import tessera.kernels.norm.LocalResponseNorm;
import tessera.kernels.pool.Pool2d;
import tessera.kernels.pool.PoolSpec;
import tessera.kernels.pool.PoolType;
import tessera.kernels.reduce.Reductions;
import tessera.kernels.reduce.Softmax;
import tessera.memory.DType;
import tessera.memory.Tensor;
import tessera.onnx.OnnxFormatException;
import tessera.onnx.OnnxNode;

/** Shape inference and kernel binding for each supported operator (one case per op type). */
final class OpPlans {
    private OpPlans() {}

    static OnnxFormatException bad(OnnxNode n, String msg) { return new OnnxFormatException(n.describe() + ": " + msg); }

    private static String out(OnnxNode n) { return n.outputs().get(0); }

    private static void requireF32(Planner p, OnnxNode n, int k) {
        var v = p.val(p.in(n, k));
        if (v.dtype != DType.F32) throw bad(n, "input " + k + " ('" + n.input(k) + "') is " + v.dtype + ", expected float32");
    }

    private static void requireRank(Planner p, OnnxNode n, int k, int rank) {
        int[] s = p.shape(n, k);
        if (s.length != rank) throw bad(n, "input " + k + " ('" + n.input(k) + "') has shape " + Planner.str(s) + ", expected rank " + rank);
    }

    static void plan(Planner p, OnnxNode n) {
        switch (n.opType()) {
            case "Identity", "Dropout" -> p.alias(out(n), p.in(n, 0), p.shape(n, 0));
            case "Cast" -> {
                var x = p.val(p.in(n, 0));
                DType to = tessera.onnx.OnnxTypes.dtypeOf((int) n.getInt("to", 1));
                if (to != x.dtype) throw bad(n, "casting a computed " + x.dtype + " tensor to " + to + " is not supported");
                p.alias(out(n), p.in(n, 0), x.shape);
            }
            case "Flatten" -> {
                int[] s = p.shape(n, 0);
                int ax = (int) n.getInt("axis", 1);
                if (ax < 0) ax += s.length;
                if (ax < 0 || ax > s.length) throw bad(n, "axis " + n.getInt("axis", 1) + " is out of range for shape " + Planner.str(s));
                p.alias(out(n), p.in(n, 0), new int[] {(int) ShapeMath.prod(s, 0, ax), (int) ShapeMath.prod(s, ax, s.length)});
            }
            case "Reshape" -> p.alias(out(n), p.in(n, 0), ShapeMath.reshape(p.shape(n, 0), p.cval(n, 1).toLongs()));
            case "Squeeze" -> {
                long[] axes = p.model().opset >= 13 ? (n.hasInput(1) ? p.cval(n, 1).toLongs() : null) : n.getInts("axes", null);
                p.alias(out(n), p.in(n, 0), ShapeMath.squeeze(p.shape(n, 0), axes));
            }
            case "Unsqueeze" -> {
                long[] axes = p.model().opset >= 13 ? p.cval(n, 1).toLongs() : n.getInts("axes", null);
                p.alias(out(n), p.in(n, 0), ShapeMath.unsqueeze(p.shape(n, 0), axes));
            }
            case "Conv" -> conv(p, n);
            case "ConvTranspose" -> convTranspose(p, n);
            case "MaxPool", "AveragePool", "LpPool" -> pool(p, n);
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
                int size = (int) n.getInt("size", 1);
                double alpha = n.getFloat("alpha", 1e-4f), beta = n.getFloat("beta", 0.75f), bias = n.getFloat("bias", 1f);
                p.step(n.name(), new int[] {x}, new int[] {y}, v -> {
                    Tensor tx = v[x], ty = v[y];
                    return () -> LocalResponseNorm.forward(tx, size, alpha, beta, bias, ty);
                });
            }
            case "Relu" -> act(p, n, ActivationFn.RELU);
            case "LeakyRelu" -> act(p, n, ActivationFn.leakyRelu(n.getFloat("alpha", 0.01f)));
            case "Elu" -> act(p, n, ActivationFn.elu(n.getFloat("alpha", 1f)));
            case "Sigmoid" -> act(p, n, ActivationFn.sigmoid());
            case "Tanh" -> act(p, n, ActivationFn.tanh());
            case "Softplus" -> act(p, n, ActivationFn.softplus());
            case "Mish" -> act(p, n, ActivationFn.mish());
            case "Selu" -> act(p, n, ActivationFn.selu(n.getFloat("alpha", GraphOptimizer.SELU_ALPHA), n.getFloat("gamma", GraphOptimizer.SELU_GAMMA)));
            case "HardSigmoid" -> act(p, n, ActivationFn.hardSigmoid(n.getFloat("alpha", 0.2f), n.getFloat("beta", 0.5f)));
            case "HardSwish" -> act(p, n, ActivationFn.hardSwish());
            case "Clip" -> {
                float lo, hi;
                if (p.model().opset < 11) {
                    lo = n.getFloat("min", Float.NEGATIVE_INFINITY);
                    hi = n.getFloat("max", Float.POSITIVE_INFINITY);
                } else {
                    lo = n.hasInput(1) ? (float) p.cval(n, 1).data()[0] : Float.NEGATIVE_INFINITY;
                    hi = n.hasInput(2) ? (float) p.cval(n, 2).data()[0] : Float.POSITIVE_INFINITY;
                }
                if (lo > hi) throw bad(n, "min " + lo + " > max " + hi);
                act(p, n, lo == 0f && hi == Float.POSITIVE_INFINITY ? ActivationFn.RELU : ActivationFn.clip(lo, hi));
            }
            case "PRelu" -> {
                requireF32(p, n, 0);
                Tensor slope = p.constTensor(n, 1);
                int[] s = p.shape(n, 0);
                if (slope == null) throw bad(n, "slope input must be a constant");
                long k = slope.numel();
                if (k != 1 && (s.length < 2 || k != s[1])) {
                    throw bad(n, "slope of shape " + Planner.str(slope.shape()) + " must have 1 or C = " + (s.length > 1 ? s[1] : 0) + " elements for input " + Planner.str(s));
                }
                Tensor sl = slope.reshape((int) k);
                int x = p.in(n, 0), y = p.dynamic(out(n), s, DType.F32);
                p.step(n.name(), new int[] {x}, new int[] {y}, v -> {
                    Tensor tx = v[x], ty = v[y];
                    return () -> Activations.preluForward(tx, sl, ty);
                });
            }
            case "Softmax", "LogSoftmax" -> softmax(p, n);
            case "Gemm" -> gemm(p, n);
            case "MatMul" -> matmul(p, n);
            case "Add", "Sub", "Mul", "Div" -> binary(p, n, n.opType(), p.in(n, 0), p.in(n, 1), out(n));
            case "Sum" -> {
                if (n.inputs().size() == 1) {
                    p.alias(out(n), p.in(n, 0), p.shape(n, 0));
                    return;
                }
                int acc = p.in(n, 0);
                for (int k = 1; k < n.inputs().size(); k++) {
                    String name = k == n.inputs().size() - 1 ? out(n) : out(n) + "#partial" + k;
                    acc = binary(p, n, "Add", acc, p.in(n, k), name);
                }
            }
            case "Concat" -> concat(p, n);
            case "Transpose" -> {
                int[] s = p.shape(n, 0);
                int[] perm = n.getIntArray("perm", null);
                if (perm == null) {
                    perm = new int[s.length];
                    for (int i = 0; i < s.length; i++) perm[i] = s.length - 1 - i;
                }
                if (perm.length != s.length) throw bad(n, "perm " + Arrays.toString(perm) + " does not match input rank " + s.length);
                int[] os = new int[s.length];
                for (int i = 0; i < s.length; i++) os[i] = s[ShapeMath.axis(perm[i], s.length, "Transpose")];
                int x = p.in(n, 0), y = p.dynamic(out(n), os, p.val(x).dtype);
                int[] pm = perm;
                p.step(n.name(), new int[] {x}, new int[] {y}, v -> new DataOps.StridedCopy(v[x].permute(pm), v[y]));
            }
            case "Gather" -> gather(p, n);
            case "Slice" -> slice(p, n);
            case "Pad" -> pad(p, n);
            case "ReduceMean" -> reduceMean(p, n);
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

    private static int binary(Planner p, OnnxNode n, String op, int a, int b, String outName) {
        var va = p.val(a);
        var vb = p.val(b);
        for (var v : new Specialization.Value[] {va, vb}) {
            if (v.dtype != DType.F32) throw bad(n, "input '" + v.name + "' is " + v.dtype + ", expected float32 for a computed " + op);
        }
        int[] os = ShapeMath.broadcast(va.shape, vb.shape);
        if (os == null) throw bad(n, "input shapes " + Planner.str(va.shape) + " and " + Planner.str(vb.shape) + " do not broadcast");
        Binary.Op bop = switch (op) {
            case "Add" -> Binary.Op.ADD;
            case "Sub" -> Binary.Op.SUB;
            case "Mul" -> Binary.Op.MUL;
            default -> Binary.Op.DIV;
        };
        int y = p.dynamic(outName, os, DType.F32);
        p.step(n.name(), new int[] {a, b}, new int[] {y}, v -> {
            Tensor ta = v[a], tb = v[b], ty = v[y];
            return () -> Binary.apply(bop, ta, tb, ty);
        });
        return y;
    }

    // ------------------------------------------------------------------ convolution

    static int[] convPads(OnnxNode n, int inH, int inW, int kh, int kw, int sh, int sw, int dh, int dw) {
        String ap = n.getString("auto_pad", "NOTSET");
        int[] pads = n.getIntArray("pads", new int[4]);
        if (ap.equals("VALID")) return new int[4];
        if (ap.startsWith("SAME")) {
            int[] r = new int[4];
            int[] in = {inH, inW}, k = {kh, kw}, s = {sh, sw}, d = {dh, dw};
            for (int a = 0; a < 2; a++) {
                int outSz = (in[a] + s[a] - 1) / s[a];
                int total = Math.max(0, (outSz - 1) * s[a] + (k[a] - 1) * d[a] + 1 - in[a]);
                int small = total / 2, big = total - small;
                r[a] = ap.equals("SAME_UPPER") ? small : big;
                r[a + 2] = ap.equals("SAME_UPPER") ? big : small;
            }
            return r;
        }
        return pads; // ONNX order: [top, left, bottom, right]
    }

    private static void conv(Planner p, OnnxNode n) {
        requireRank(p, n, 0, 4);
        requireF32(p, n, 0);
        int[] xs = p.shape(n, 0);
        int[] ws = p.shape(n, 1);
        if (ws.length != 4) throw bad(n, "weight '" + n.input(1) + "' has shape " + Planner.str(ws) + ", expected [K, C/group, kH, kW]");
        int group = (int) n.getInt("group", 1);
        int[] k = n.getIntArray("kernel_shape", new int[] {ws[2], ws[3]});
        if (k[0] != ws[2] || k[1] != ws[3]) throw bad(n, "kernel_shape " + Arrays.toString(k) + " differs from the weight shape " + Planner.str(ws));
        if (ws[1] * group != xs[1]) {
            throw bad(n, "input has " + xs[1] + " channels but weight " + Planner.str(ws) + " with group=" + group + " expects " + ws[1] * group);
        }
        int[] st = n.getIntArray("strides", new int[] {1, 1}), dl = n.getIntArray("dilations", new int[] {1, 1});
        int[] pads = convPads(n, xs[2], xs[3], k[0], k[1], st[0], st[1], dl[0], dl[1]);
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
        ActivationFn act = GraphOptimizer.fusedActivation(n);
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
            int sum = binary(p, n, "Add", t, res, act.isIdentity() ? out(n) : out(n) + "#sum");
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
        int group = (int) n.getInt("group", 1);
        if (ws[0] != xs[1]) throw bad(n, "input has " + xs[1] + " channels, weight " + Planner.str(ws) + " expects " + ws[0]);
        int[] st = n.getIntArray("strides", new int[] {1, 1}), dl = n.getIntArray("dilations", new int[] {1, 1});
        int[] op = n.getIntArray("output_padding", new int[2]);
        int[] pads = n.getIntArray("pads", new int[4]);
        int[] outShape = n.getIntArray("output_shape", null);
        String ap = n.getString("auto_pad", "NOTSET");
        int[] in = {xs[2], xs[3]};
        if (outShape != null || ap.startsWith("SAME")) {
            pads = new int[4];
            for (int a = 0; a < 2; a++) {
                int target = outShape != null ? outShape[a] : in[a] * st[a];
                int total = st[a] * (in[a] - 1) + op[a] + (ws[2 + a] - 1) * dl[a] + 1 - target;
                if (total < 0) {
                    op[a] += -total;
                    total = 0;
                }
                if (ap.equals("SAME_UPPER")) {
                    pads[a] = total / 2;
                    pads[a + 2] = total - total / 2;
                } else {
                    pads[a] = total - total / 2;
                    pads[a + 2] = total / 2;
                }
            }
        } else if (ap.equals("VALID")) {
            pads = new int[4];
        }
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
        requireF32(p, n, 0);
        int[] xs = p.shape(n, 0);
        int[] k = n.getIntArray("kernel_shape", null);
        int[] st = n.getIntArray("strides", new int[] {1, 1}), dl = n.getIntArray("dilations", new int[] {1, 1});
        int[] pads = convPads(n, xs[2], xs[3], k[0], k[1], st[0], st[1], dl[0], dl[1]);
        PoolType type = switch (n.opType()) {
            case "MaxPool" -> PoolType.MAX;
            case "AveragePool" -> PoolType.AVG;
            default -> PoolType.L2;
        };
        boolean ceil = n.getInt("ceil_mode", 0) == 1, cip = n.getInt("count_include_pad", 0) == 1;
        PoolSpec spec = new PoolSpec(type, k[0], k[1], st[0], st[1], pads[0], pads[1], pads[2], pads[3], dl[0], dl[1], ceil, cip);
        int[] ys = {xs[0], xs[1], spec.outH(xs[2]), spec.outW(xs[3])};
        int x = p.in(n, 0), y = p.dynamic(out(n), ys, DType.F32);
        boolean withIdx = n.outputs().size() > 1 && !n.outputs().get(1).isEmpty();
        if (withIdx) {
            int idx = p.dynamic(n.outputs().get(1), ys, DType.I64);
            long plane = (long) xs[2] * xs[3];
            p.step(n.name(), new int[] {x}, new int[] {y, idx}, v -> {
                Tensor tx = v[x], ty = v[y], ti = v[idx];
                return () -> {
                    Pool2d.forward(spec, tx, ty, ti);
                    DataOps.planeToFlatIndices(ti, plane);
                };
            });
        } else {
            p.step(n.name(), new int[] {x}, new int[] {y}, v -> {
                Tensor tx = v[x], ty = v[y];
                return () -> Pool2d.forward(spec, tx, ty, null);
            });
        }
    }

    private static void maxUnpool(Planner p, OnnxNode n) {
        requireRank(p, n, 0, 4);
        int[] xs = p.shape(n, 0);
        int[] k = n.getIntArray("kernel_shape", null);
        int[] st = n.getIntArray("strides", new int[] {1, 1});
        int[] pads = n.getIntArray("pads", new int[4]);
        int[] ys;
        if (n.hasInput(2)) {
            long[] os = p.cval(n, 2).toLongs();
            if (os.length != 4) throw bad(n, "output_shape " + Arrays.toString(os) + " must have 4 values");
            ys = new int[] {(int) os[0], (int) os[1], (int) os[2], (int) os[3]};
        } else {
            ys = new int[] {xs[0], xs[1], (xs[2] - 1) * st[0] + k[0] - pads[0] - pads[2], (xs[3] - 1) * st[1] + k[1] - pads[1] - pads[3]};
        }
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
        double eps = n.getFloat("epsilon", 1e-5f);
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
        boolean log = n.opType().equals("LogSoftmax");
        int x = p.in(n, 0), y = p.dynamic(out(n), xs, DType.F32);
        if (p.model().opset >= 13) {
            int ax = ShapeMath.axis(n.getInt("axis", -1), xs.length, n.describe());
            p.step(n.name(), new int[] {x}, new int[] {y}, v -> {
                Tensor tx = v[x], ty = v[y];
                return log ? () -> Softmax.logForward(tx, ax, ty) : () -> Softmax.forward(tx, ax, ty);
            });
        } else {
            int ax = ShapeMath.axis(n.getInt("axis", 1), xs.length, n.describe());
            int[] two = {(int) ShapeMath.prod(xs, 0, ax), (int) ShapeMath.prod(xs, ax, xs.length)};
            p.step(n.name(), new int[] {x}, new int[] {y}, v -> {
                Tensor tx = v[x].reshape(two), ty = v[y].reshape(two);
                return log ? () -> Softmax.logForward(tx, 1, ty) : () -> Softmax.forward(tx, 1, ty);
            });
        }
    }

    // ------------------------------------------------------------------ dense

    private static void gemm(Planner p, OnnxNode n) {
        requireF32(p, n, 0);
        requireF32(p, n, 1);
        int[] as = p.shape(n, 0), bs = p.shape(n, 1);
        if (as.length != 2 || bs.length != 2) throw bad(n, "inputs must be 2-D, got " + Planner.str(as) + " and " + Planner.str(bs));
        boolean ta = n.getInt("transA", 0) == 1, tb = n.getInt("transB", 0) == 1;
        int m = ta ? as[1] : as[0], k = ta ? as[0] : as[1], nn = tb ? bs[0] : bs[1], kb = tb ? bs[1] : bs[0];
        if (k != kb) throw bad(n, "inner dimensions differ: A " + Planner.str(as) + (ta ? "ᵀ" : "") + " and B " + Planner.str(bs) + (tb ? "ᵀ" : ""));
        float alpha = n.getFloat("alpha", 1f), beta = n.getFloat("beta", 1f);
        ActivationFn act = GraphOptimizer.fusedActivation(n);
        int a = p.in(n, 0), b = p.in(n, 1), y = p.dynamic(out(n), new int[] {m, nn}, DType.F32);
        int lda = as[1], ldb = bs[1];
        Tensor colBias = null;
        int c = -1;
        if (n.hasInput(2) && beta != 0f) {
            c = p.in(n, 2);
            var vc = p.val(c);
            if (ShapeMath.broadcast(vc.shape, new int[] {m, nn}) == null || ShapeMath.broadcast(vc.shape, new int[] {m, nn})[0] != m
                    || vc.shape.length > 2) {
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
        int ax = ShapeMath.axis(n.getInt("axis", 0), first.length, n.describe());
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
        int ax = ShapeMath.axis(n.getInt("axis", 0), xs.length, n.describe());
        CVal idx = p.cval(n, 1);
        if (idx.rank() > 1) throw bad(n, "indices of rank " + idx.rank() + " on a computed tensor are not supported (rank 0 or 1)");
        long[] ks = idx.toLongs();
        for (int i = 0; i < ks.length; i++) {
            if (ks[i] < 0) ks[i] += xs[ax];
            if (ks[i] < 0 || ks[i] >= xs[ax]) throw bad(n, "index " + idx.toLongs()[i] + " is out of range for axis " + ax + " of size " + xs[ax]);
        }
        int[] os = new int[xs.length - 1 + idx.rank()];
        System.arraycopy(xs, 0, os, 0, ax);
        if (idx.rank() == 1) os[ax] = ks.length;
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
        long[] starts, ends, axes, steps;
        if (p.model().opset < 10) {
            starts = n.getInts("starts", null);
            ends = n.getInts("ends", null);
            axes = n.getInts("axes", null);
            steps = null;
        } else {
            starts = p.cval(n, 1).toLongs();
            ends = p.cval(n, 2).toLongs();
            axes = n.hasInput(3) ? p.cval(n, 3).toLongs() : null;
            steps = n.hasInput(4) ? p.cval(n, 4).toLongs() : null;
        }
        int[][] s = ShapeMath.slice(xs, starts, ends, axes, steps);
        for (int d = 0; d < xs.length; d++) if (s[1][d] < 1) throw bad(n, "negative slice steps on a computed tensor are not supported");
        int x = p.in(n, 0), y = p.dynamic(out(n), s[2], p.val(p.in(n, 0)).dtype);
        p.step(n.name(), new int[] {x}, new int[] {y}, v -> {
            Tensor view = v[x];
            for (int d = 0; d < xs.length; d++) {
                int start = Math.min(s[0][d], xs[d]);
                int end = Math.min(xs[d], start + (s[2][d] - 1) * s[1][d] + 1);
                if (s[2][d] == 0) end = start;
                view = view.slice(d, start, end, s[1][d]);
            }
            return new DataOps.StridedCopy(view, v[y]);
        });
    }

    private static void pad(Planner p, OnnxNode n) {
        requireF32(p, n, 0);
        int[] xs = p.shape(n, 0);
        long[] pads = p.model().opset >= 11 ? p.cval(n, 1).toLongs() : n.getInts("pads", null);
        float value = p.model().opset >= 11 ? (n.hasInput(2) ? (float) p.cval(n, 2).data()[0] : 0f) : n.getFloat("value", 0f);
        if (pads == null || pads.length != 2 * xs.length) throw bad(n, "pads " + Arrays.toString(pads) + " must have " + 2 * xs.length + " values");
        String mode = n.getString("mode", "constant");
        int[] before = new int[xs.length], ys = new int[xs.length];
        for (int d = 0; d < xs.length; d++) {
            if (pads[d] < 0 || pads[d + xs.length] < 0) throw bad(n, "negative pads " + Arrays.toString(pads) + " are not supported");
            before[d] = (int) pads[d];
            ys[d] = (int) (xs[d] + pads[d] + pads[d + xs.length]);
            if (mode.equals("reflect") && (pads[d] >= xs[d] || pads[d + xs.length] >= xs[d])) {
                throw bad(n, "reflect pads " + Arrays.toString(pads) + " must be smaller than the input size " + Planner.str(xs));
            }
        }
        int x = p.in(n, 0), y = p.dynamic(out(n), ys, DType.F32);
        boolean constant = mode.equals("constant"), reflect = mode.equals("reflect");
        p.step(n.name(), new int[] {x}, new int[] {y}, v -> {
            Tensor interior = v[y];
            for (int d = 0; d < xs.length; d++) interior = interior.narrow(d, before[d], xs[d]);
            Runnable copy = new DataOps.StridedCopy(v[x], interior);
            Tensor ty = v[y];
            Runnable border = constant ? null : new DataOps.PadBorder(ty, before, xs, reflect);
            return () -> {
                if (constant) DataOps.fill(ty, value);
                copy.run();
                if (border != null) border.run();
            };
        });
    }

    private static void reduceMean(Planner p, OnnxNode n) {
        requireF32(p, n, 0);
        int[] xs = p.shape(n, 0);
        long[] axes = p.model().opset >= 18 ? (n.hasInput(1) ? p.cval(n, 1).toLongs() : null) : n.getInts("axes", null);
        int[] ax = ShapeMath.reduceAxes(axes, xs.length, n.describe());
        int[] keep = xs.clone();
        for (int a : ax) keep[a] = 1;
        boolean keepdims = n.getInt("keepdims", 1) == 1;
        int x = p.in(n, 0);
        int y = p.dynamic(keepdims ? out(n) : out(n) + "#keepdims", keep, DType.F32);
        p.step(n.name(), new int[] {x}, new int[] {y}, v -> {
            Tensor tx = v[x], ty = v[y];
            return () -> Reductions.mean(tx, ax, ty);
        });
        if (!keepdims) {
            long[] all = new long[ax.length];
            for (int i = 0; i < ax.length; i++) all[i] = ax[i];
            p.alias(out(n), y, ShapeMath.squeeze(keep, all));
        }
    }

}
